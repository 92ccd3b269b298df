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

/**
 * Signs `domain` + canonical JSON of `payload`. The domain (e.g. `fedseg/task/v1`) keeps a signature made for
 * one kind of message from being accepted as another.
 */
export function signMessage(domain: string, payload: unknown, signingSecretKey: string): string {
  return toBase64(nacl.sign.detached(domainBytes(domain, payload), fromBase64(signingSecretKey)));
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
  return nacl.sign.detached.verify(domainBytes(domain, payload), sig, pk);
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
  const shared = nacl.scalarMult(fromBase64(mySecretKey), fromBase64(theirPublicKey));
  if (shared.every((b) => b === 0)) throw new SignatureError('The peer sent a low-order agreement key.');
  return shared;
}

export const SignatureDomains = {
  enroll: 'fedseg/enroll/v1',
  connect: 'fedseg/connect/v1',
  task: 'fedseg/task/v1',
  updateHeader: 'fedseg/update-header/v1',
  planApproval: 'fedseg/plan-approval/v1',
} as const;
