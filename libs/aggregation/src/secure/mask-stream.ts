import crypto from 'node:crypto';
import { AggregationError } from '../aggregation-error';
import { addRing, subtractRing } from './ring64';

/**
 * The key schedule of secure aggregation's masks. Every mask is the ChaCha20 keystream (RFC 8439, OpenSSL
 * through node:crypto) under a 256-bit key that HKDF-SHA256 derives from either an X25519 agreement (pairwise
 * masks) or a 256-bit seed from the OS CSPRNG (self masks), with the study, round and sites in the HKDF info,
 * so no two masks of any round or study share a key. Nothing here ever reads Math.random.
 */
export const MASK_KEY_BYTES = 32;
export const SELF_MASK_SEED_BYTES = 32;
/** Below this, a seed could be searched; refused wherever a seed or key enters. */
const MIN_SECRET_BYTES = 16;

export interface MaskContext {
  studyId: string;
  round: number;
}

function checkSecret(secret: Uint8Array, what: string): void {
  if (secret.length < MIN_SECRET_BYTES)
    throw new AggregationError(
      `A ${what} of ${secret.length * 8} bits is too short for a mask; at least ${MIN_SECRET_BYTES * 8} are needed.`,
      'WEAK_MASK_SEED',
    );
}

function hkdf(secret: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(crypto.hkdfSync('sha256', secret, new Uint8Array(0), info, MASK_KEY_BYTES));
}

/** The pairwise mask key of sites a and b: the same at both ends (the site ids are put in order). */
export function pairwiseMaskKey(
  sharedSecret: Uint8Array,
  ctx: MaskContext,
  siteA: string,
  siteB: string,
): Uint8Array {
  checkSecret(sharedSecret, 'pairwise secret');
  const [low, high] = siteA < siteB ? [siteA, siteB] : [siteB, siteA];
  return hkdf(sharedSecret, `fedseg/secagg/pairwise-mask/v1|${ctx.studyId}|${ctx.round}|${low}|${high}`);
}

export function selfMaskKey(seed: Uint8Array, ctx: MaskContext, siteId: string): Uint8Array {
  checkSecret(seed, 'self-mask seed');
  return hkdf(seed, `fedseg/secagg/self-mask/v1|${ctx.studyId}|${ctx.round}|${siteId}`);
}

/** A fresh self-mask seed: 256 bits from the OS CSPRNG. */
export function newSelfMaskSeed(): Uint8Array {
  return new Uint8Array(crypto.randomBytes(SELF_MASK_SEED_BYTES));
}

/** The commitment a site publishes to its self-mask seed, so that the seed rebuilt from shares can be checked. */
export function selfMaskCommitment(seed: Uint8Array, ctx: MaskContext, siteId: string): string {
  return crypto
    .createHash('sha256')
    .update(`fedseg/secagg/self-mask-commitment/v1|${ctx.studyId}|${ctx.round}|${siteId}|`)
    .update(seed)
    .digest('hex');
}

/** Keystream is made and folded in blocks of this many bytes, so memory does not grow with the model. */
const BLOCK_BYTES = 1 << 20;
const ZEROS = new Uint8Array(BLOCK_BYTES);

/**
 * acc +=/-= the mask of `key` (one 64-bit ring element per two 32-bit words of acc). The keystream starts at
 * block 0 with an all-zero nonce: safe because each key is derived for exactly one mask.
 */
export function applyMask(acc: Uint32Array, key: Uint8Array, sign: 1 | -1): void {
  if (key.length !== MASK_KEY_BYTES)
    throw new AggregationError(
      `A mask key has ${MASK_KEY_BYTES} bytes, not ${key.length}.`,
      'WEAK_MASK_SEED',
    );
  const cipher = crypto.createCipheriv('chacha20', key, new Uint8Array(16));
  const words = BLOCK_BYTES / 4;
  for (let start = 0; start < acc.length; start += words) {
    const count = Math.min(words, acc.length - start);
    const stream = cipher.update(ZEROS.subarray(0, count * 4));
    // 8-byte aligned keystream lets addRing use 64-bit lanes (large outputs are not pool slices: offset 0)
    const mask =
      stream.byteOffset % 8 === 0
        ? new Uint32Array(stream.buffer, stream.byteOffset, count)
        : new Uint32Array(new Uint8Array(stream).buffer, 0, count);
    const target = acc.subarray(start, start + count);
    if (sign === 1) addRing(target, mask);
    else subtractRing(target, mask);
  }
}
