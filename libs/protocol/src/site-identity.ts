import crypto from 'node:crypto';
import nacl from 'tweetnacl';
import { z } from 'zod';
import { canonicalBytes } from './canonical-json';
import { FedsegError } from './errors';

/**
 * Long-lived identities of sites and of the coordinator: an Ed25519 key to sign and an X25519 key to agree
 * on secrets (tweetnacl, as DESIGN.md names it). Secret halves never leave the machine that made them.
 */
export const PublicKey32 = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}=$/, 'a 32-byte key in base64')
  .describe('32-byte public key, base64');
export const Signature64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]{86}==$/, 'a 64-byte signature in base64')
  .describe('Ed25519 signature, base64');

export const PublicIdentity = z.object({
  signingPublicKey: PublicKey32,
  agreementPublicKey: PublicKey32,
});
export type PublicIdentity = z.infer<typeof PublicIdentity>;

export const SecretIdentity = PublicIdentity.extend({
  signingSecretKey: z.string().min(1),
  agreementSecretKey: z.string().min(1),
});
export type SecretIdentity = z.infer<typeof SecretIdentity>;

export class SignatureError extends FedsegError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('BAD_SIGNATURE', message, details);
  }
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function fromBase64(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'base64'));
}

export function generateIdentity(): SecretIdentity {
  const signing = nacl.sign.keyPair();
  const agreement = nacl.box.keyPair();
  return {
    signingPublicKey: toBase64(signing.publicKey),
    signingSecretKey: toBase64(signing.secretKey),
    agreementPublicKey: toBase64(agreement.publicKey),
    agreementSecretKey: toBase64(agreement.secretKey),
  };
}

export function publicPart(identity: SecretIdentity): PublicIdentity {
  return {
    signingPublicKey: identity.signingPublicKey,
    agreementPublicKey: identity.agreementPublicKey,
  };
}

/**
 * What a person compares out of band: SHA-256 over both public keys, first 16 bytes in colon-separated hex
 * (`3f:a1:…`), like an SSH host key fingerprint.
 */
export function keyFingerprint(identity: PublicIdentity): string {
  const digest = crypto
    .createHash('sha256')
    .update(fromBase64(identity.signingPublicKey))
    .update(fromBase64(identity.agreementPublicKey))
    .digest();
  return [...digest.subarray(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/*
 * Keys are made by tweetnacl and stored in its formats; signing, verifying and key agreement run through
 * node:crypto (OpenSSL), which computes the same Ed25519 signatures and X25519 secrets 10-40x faster
 * (`npm run bench -- crypto`). The raw keys are wrapped in their fixed DER headers (RFC 8410).
 */
const DER = {
  ed25519Private: Buffer.from('302e020100300506032b657004220420', 'hex'),
  ed25519Public: Buffer.from('302a300506032b6570032100', 'hex'),
  x25519Private: Buffer.from('302e020100300506032b656e04220420', 'hex'),
  x25519Public: Buffer.from('302a300506032b656e032100', 'hex'),
};
const keyCache = new Map<string, crypto.KeyObject>();

function keyObject(kind: keyof typeof DER, raw: Uint8Array): crypto.KeyObject {
  const id = `${kind}:${toBase64(raw)}`;
  let key = keyCache.get(id);
  if (!key) {
    const der = Buffer.concat([DER[kind], raw]);
    key = kind.endsWith('Private')
      ? crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
      : crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
    if (keyCache.size > 4096) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

/**
 * Signs `domain` + canonical JSON of `payload`. The domain (e.g. `fedseg/task/v1`) keeps a signature made for
 * one kind of message from being accepted as another.
 */
export function signMessage(domain: string, payload: unknown, signingSecretKey: string): string {
  const seed = fromBase64(signingSecretKey).subarray(0, 32); // tweetnacl's secret key is seed || public key
  return toBase64(
    new Uint8Array(crypto.sign(null, domainBytes(domain, payload), keyObject('ed25519Private', seed))),
  );
}

export function verifyMessage(
  domain: string,
  payload: unknown,
  signature: string,
  signingPublicKey: string,
): boolean {
  const sig = fromBase64(signature);
  const pk = fromBase64(signingPublicKey);
  if (sig.length !== nacl.sign.signatureLength || pk.length !== nacl.sign.publicKeyLength) return false;
  try {
    return crypto.verify(null, domainBytes(domain, payload), keyObject('ed25519Public', pk), sig);
  } catch {
    return false; // not a valid curve point
  }
}

/** Throws SignatureError naming what failed to verify. */
export function assertSigned(
  domain: string,
  payload: unknown,
  signature: string,
  signingPublicKey: string,
  what: string,
): void {
  if (!verifyMessage(domain, payload, signature, signingPublicKey))
    throw new SignatureError(`The signature on ${what} does not verify with the registered key.`);
}

function domainBytes(domain: string, payload: unknown): Uint8Array {
  const head = new TextEncoder().encode(`${domain}\n`);
  const body = canonicalBytes(payload);
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** Shared secret of an X25519 agreement (raw; always pass it through a KDF before use). */
export function agreeSecret(mySecretKey: string, theirPublicKey: string): Uint8Array {
  let shared: Uint8Array;
  try {
    shared = new Uint8Array(
      crypto.diffieHellman({
        privateKey: keyObject('x25519Private', fromBase64(mySecretKey)),
        publicKey: keyObject('x25519Public', fromBase64(theirPublicKey)),
      }),
    );
  } catch {
    throw new SignatureError('The peer sent an agreement key that is not a usable X25519 key.');
  }
  if (shared.every((b) => b === 0)) throw new SignatureError('The peer sent a low-order agreement key.');
  return shared;
}

/** The X25519 public key (base64) that belongs to a raw secret key (base64): checks a key rebuilt from shares. */
export function agreementPublicKeyOf(secretKey: string): string {
  const publicKey = crypto.createPublicKey(keyObject('x25519Private', fromBase64(secretKey)));
  return toBase64(new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)));
}

/** A fresh X25519 key pair (raw 32-byte halves), for one-use keys such as an update's ephemeral key. */
export function ephemeralAgreementKeys(): { publicKey: Uint8Array; secretKey: Uint8Array } {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('x25519');
  return {
    publicKey: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)),
    secretKey: new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32)),
  };
}

export const SignatureDomains = {
  enroll: 'fedseg/enroll/v1',
  connect: 'fedseg/connect/v1',
  task: 'fedseg/task/v1',
  updateHeader: 'fedseg/update-header/v1',
  planApproval: 'fedseg/plan-approval/v1',
  secAggRequest: 'fedseg/secagg-request/v1',
  secAggReply: 'fedseg/secagg-reply/v1',
  fingerprintRequest: 'fedseg/fingerprint-request/v1',
  fingerprintReport: 'fedseg/fingerprint-report/v1',
} as const;
