import crypto from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes } from './canonical-json';
import { FedsegError } from './errors';
import {
  PublicKey32,
  Signature64,
  SignatureDomains,
  agreeSecret,
  ephemeralAgreementKeys,
  fromBase64,
  signMessage,
  toBase64,
  verifyMessage,
} from './site-identity';

/**
 * The encrypted, signed envelope of one site update, end to end from the site to the coordinator.
 *
 * - The site signs a header with its Ed25519 key: what the update is for (task, study, round, site), what it
 *   holds (codec, plaintext sha256 and length, chunk layout) and a fresh X25519 key of its own.
 * - Key: HKDF-SHA256 over X25519(ephemeral secret, coordinator's agreement key), salted with the header's
 *   random nonce and bound to the header's digest. A fresh key per update: one leaked key exposes one update.
 * - Payload: split into chunks of at most `chunkBytes`, each sealed on its own with ChaCha20-Poly1305 (RFC
 *   8439, node:crypto) under a 12-byte nonce from the CSPRNG, associated data = header digest, chunk index
 *   and count. Each chunk is a socket message below the transport cap and is checked as it arrives.
 * A chunk on the wire: nonce (12) || ciphertext || tag (16).
 */
const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
export const UPDATE_NONCE_BYTES = 16;
const CHUNK_NONCE_BYTES = 12;
const TAG_BYTES = 16;
export const DEFAULT_CHUNK_BYTES = 512 * 1024;

export const UpdateHeader = z.strictObject({
  v: z.literal(1),
  taskId: z.uuid(),
  studyId: z.uuid(),
  round: z.int().min(1),
  siteId: z.uuid(),
  samples: z.int().positive(),
  trainLoss: z.number().finite(),
  steps: z.int().min(0),
  /** The update codec of the plaintext (none, fp16, int8, top-k), as the study configured it. */
  codec: z.string().min(1).max(32),
  payloadSha256: Sha256Hex,
  payloadBytes: z.int().min(1),
  chunkBytes: z
    .int()
    .min(1024)
    .max(8 * 1024 * 1024),
  chunks: z.int().min(1).max(1_000_000),
  /** Random, never reused: the coordinator refuses a header whose nonce it has seen (replays). */
  nonce: z.string().regex(/^[A-Za-z0-9+/]{22}==$/, 'a 16-byte nonce in base64'),
  ephemeralPublicKey: PublicKey32,
});
export type UpdateHeader = z.infer<typeof UpdateHeader>;

/** agent -> coordinator: opens an update transfer. The chunks follow as `update:chunk` messages. */
export const UpdateBegin = z.strictObject({ header: UpdateHeader, signature: Signature64 });
export type UpdateBegin = z.infer<typeof UpdateBegin>;

/** agent -> coordinator, with one sealed chunk attached as binary. */
export const UpdateChunk = z.strictObject({ nonce: UpdateHeader.shape.nonce, index: z.int().min(0) });
export type UpdateChunk = z.infer<typeof UpdateChunk>;

export class EnvelopeError extends FedsegError {}

export function headerDigest(header: UpdateHeader): Uint8Array {
  return new Uint8Array(crypto.createHash('sha256').update(canonicalBytes(header)).digest());
}

function deriveKey(shared: Uint8Array, header: UpdateHeader): Buffer {
  const info = Buffer.concat([Buffer.from('fedseg/update-key/v1'), headerDigest(header)]);
  return Buffer.from(crypto.hkdfSync('sha256', shared, fromBase64(header.nonce), info, 32));
}

function chunkAad(digest: Uint8Array, index: number, count: number): Buffer {
  const aad = Buffer.alloc(digest.length + 8);
  aad.set(digest);
  aad.writeUInt32BE(index, digest.length);
  aad.writeUInt32BE(count, digest.length + 4);
  return aad;
}

export interface SealedUpdate {
  begin: UpdateBegin;
  chunks: Uint8Array[];
}

type SealFields = Omit<
  UpdateHeader,
  'v' | 'payloadSha256' | 'payloadBytes' | 'chunkBytes' | 'chunks' | 'nonce' | 'ephemeralPublicKey'
>;

/**
 * Site side: one update for the coordinator whose agreement key the site pinned, signed once and sealed chunk
 * by chunk on demand, so a transfer resumed after a reconnect keeps its header (and the coordinator its
 * partial transfer) and only the chunks in flight exist sealed at any time. Each `seal` draws a fresh chunk
 * nonce, so a chunk sent again is a new ciphertext under the same key, never a reused nonce.
 */
export class UpdateSealer {
  readonly begin: UpdateBegin;
  private readonly key: Buffer;
  private readonly digest: Uint8Array;

  constructor(
    fields: SealFields,
    private readonly payload: Uint8Array,
    keys: { coordinatorAgreementPublicKey: string; siteSigningSecretKey: string },
    chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {
    if (payload.length === 0)
      throw new EnvelopeError('EMPTY_UPDATE', 'An update must hold at least one byte.');
    const ephemeral = ephemeralAgreementKeys();
    const header: UpdateHeader = {
      v: 1,
      ...fields,
      payloadSha256: crypto.createHash('sha256').update(payload).digest('hex'),
      payloadBytes: payload.length,
      chunkBytes,
      chunks: Math.ceil(payload.length / chunkBytes),
      nonce: toBase64(crypto.randomBytes(UPDATE_NONCE_BYTES)),
      ephemeralPublicKey: toBase64(ephemeral.publicKey),
    };
    this.key = deriveKey(
      agreeSecret(toBase64(ephemeral.secretKey), keys.coordinatorAgreementPublicKey),
      header,
    );
    ephemeral.secretKey.fill(0);
    this.digest = headerDigest(header);
    this.begin = {
      header,
      signature: signMessage(SignatureDomains.updateHeader, header, keys.siteSigningSecretKey),
    };
  }

  get chunks(): number {
    return this.begin.header.chunks;
  }

  /** Chunk `index` on the wire: nonce (12) || ciphertext || tag (16). */
  seal(index: number): Uint8Array {
    const { chunkBytes, chunks } = this.begin.header;
    if (!Number.isInteger(index) || index < 0 || index >= chunks)
      throw new EnvelopeError('BAD_CHUNK', `Chunk ${index} is outside 0..${chunks - 1}.`);
    const plain = this.payload.subarray(
      index * chunkBytes,
      Math.min(this.payload.length, (index + 1) * chunkBytes),
    );
    const nonce = crypto.randomBytes(CHUNK_NONCE_BYTES);
    const cipher = crypto.createCipheriv('chacha20-poly1305', this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(chunkAad(this.digest, index, chunks), { plaintextLength: plain.length });
    const body = cipher.update(plain);
    cipher.final();
    return new Uint8Array(Buffer.concat([nonce, body, cipher.getAuthTag()]));
  }

  /** Forgets the key once the coordinator gave its verdict. */
  dispose(): void {
    this.key.fill(0);
  }
}

/** Site side: encrypts and signs one update, every chunk at once (UpdateSealer seals them on demand). */
export function sealUpdate(
  fields: SealFields,
  payload: Uint8Array,
  keys: { coordinatorAgreementPublicKey: string; siteSigningSecretKey: string },
  chunkBytes = DEFAULT_CHUNK_BYTES,
): SealedUpdate {
  const sealer = new UpdateSealer(fields, payload, keys, chunkBytes);
  const chunks = Array.from({ length: sealer.chunks }, (_, i) => sealer.seal(i));
  sealer.dispose();
  return { begin: sealer.begin, chunks };
}

/**
 * Coordinator side: checks the header's signature against the site's registered key, then opens chunks as
 * they arrive. Every failure is an EnvelopeError with a stable code; nothing partial is ever returned.
 */
export class UpdateOpener {
  readonly header: UpdateHeader;
  private readonly key: Buffer;
  private readonly digest: Uint8Array;
  private readonly parts: (Uint8Array | undefined)[];
  private readonly chunkNonces = new Set<string>();
  private received = 0;

  constructor(
    begin: UpdateBegin,
    keys: { siteSigningPublicKey: string; coordinatorAgreementSecretKey: string },
  ) {
    if (
      !verifyMessage(SignatureDomains.updateHeader, begin.header, begin.signature, keys.siteSigningPublicKey)
    )
      throw new EnvelopeError(
        'BAD_SIGNATURE',
        "The update header's signature does not verify with the site's key.",
      );
    const h = begin.header;
    if (h.chunks !== Math.ceil(h.payloadBytes / h.chunkBytes))
      throw new EnvelopeError(
        'BAD_ENVELOPE',
        `The header announces ${h.chunks} chunk(s) for ${h.payloadBytes} bytes in chunks of ${h.chunkBytes}.`,
      );
    this.header = h;
    this.digest = headerDigest(h);
    this.key = deriveKey(agreeSecret(keys.coordinatorAgreementSecretKey, h.ephemeralPublicKey), h);
    this.parts = new Array<Uint8Array | undefined>(h.chunks);
  }

  get complete(): boolean {
    return this.received === this.header.chunks;
  }

  addChunk(index: number, sealed: Uint8Array): void {
    if (index >= 0 && index < this.header.chunks && this.parts[index])
      throw new EnvelopeError('DUPLICATE_CHUNK', `Chunk ${index} arrived twice.`);
    this.parts[index] = this.open(index, sealed);
    this.received++;
  }

  /**
   * Checks and decrypts chunk `index` without keeping it (the caller stores the plaintext where it belongs
   * and tracks which chunks it has). Refuses an index out of range, a wrong length, a chunk nonce seen before
   * and bytes that fail authentication.
   */
  open(index: number, sealed: Uint8Array): Uint8Array {
    const h = this.header;
    if (!Number.isInteger(index) || index < 0 || index >= h.chunks)
      throw new EnvelopeError('BAD_CHUNK', `Chunk ${index} is outside 0..${h.chunks - 1}.`);
    const expected = index === h.chunks - 1 ? h.payloadBytes - index * h.chunkBytes : h.chunkBytes;
    if (sealed.length !== CHUNK_NONCE_BYTES + expected + TAG_BYTES)
      throw new EnvelopeError(
        'TRUNCATED_CHUNK',
        `Chunk ${index} is ${sealed.length} bytes; ${CHUNK_NONCE_BYTES + expected + TAG_BYTES} expected.`,
      );
    const nonce = sealed.subarray(0, CHUNK_NONCE_BYTES);
    const nonceKey = toBase64(nonce);
    if (this.chunkNonces.has(nonceKey))
      throw new EnvelopeError('NONCE_REUSED', `Chunk ${index} reuses the nonce of an earlier chunk.`);
    const decipher = crypto.createDecipheriv('chacha20-poly1305', this.key, nonce, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(chunkAad(this.digest, index, h.chunks), { plaintextLength: expected });
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const body = decipher.update(sealed.subarray(CHUNK_NONCE_BYTES, sealed.length - TAG_BYTES));
    try {
      decipher.final();
    } catch {
      throw new EnvelopeError(
        'DECRYPT_FAILED',
        `Chunk ${index} fails authentication: its bytes were altered or it belongs to another update.`,
      );
    }
    this.chunkNonces.add(nonceKey);
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }

  /** The whole plaintext, assembled by the caller, must hash to the signed digest. */
  checkDigest(sha256Hex: string): void {
    if (sha256Hex !== this.header.payloadSha256)
      throw new EnvelopeError('DIGEST_MISMATCH', 'The decrypted update does not match its signed sha256.');
  }

  /** Forgets the key (the transfer ended or expired). */
  dispose(): void {
    this.key.fill(0);
  }

  /** The plaintext, once every chunk arrived and the whole matches the signed digest. */
  finish(): Uint8Array {
    if (!this.complete)
      throw new EnvelopeError(
        'TRUNCATED_UPDATE',
        `Only ${this.received} of ${this.header.chunks} chunk(s) arrived.`,
      );
    const out = new Uint8Array(this.header.payloadBytes);
    let at = 0;
    for (const part of this.parts) {
      out.set(part!, at);
      at += part!.length;
    }
    this.checkDigest(crypto.createHash('sha256').update(out).digest('hex'));
    this.key.fill(0);
    return out;
  }
}
