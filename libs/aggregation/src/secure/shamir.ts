import { randomFillSync } from 'node:crypto';
import { AggregationError } from '../aggregation-error';

/**
 * Shamir secret sharing over GF(2^8), byte by byte: each byte of the secret is the constant term of its own
 * random polynomial of degree t - 1, and a share is the polynomial's values at one nonzero x. Any t shares
 * give the secret back; t - 1 shares are uniformly distributed whatever the secret (information-theoretic).
 * The field is AES's (x^8 + x^4 + x^3 + x + 1), so x ranges over 1..255.
 */
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    // multiply by the generator 3: x * 2 (reduced by the AES polynomial) xor x
    const doubled = ((x << 1) ^ (x & 0x80 ? 0x11b : 0)) & 0xff;
    x = doubled ^ x;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
}

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new AggregationError('Division by zero in GF(2^8).');
  if (a === 0) return 0;
  return EXP[LOG[a]! + 255 - LOG[b]!]!;
}

export interface Share {
  /** The evaluation point, 1..255. */
  x: number;
  y: Uint8Array;
}

function checkPoints(xs: readonly number[]): void {
  const seen = new Set<number>();
  for (const x of xs) {
    if (!Number.isInteger(x) || x < 1 || x > 255)
      throw new AggregationError(`Share point ${x} is outside 1..255.`, 'BAD_SHARE');
    if (seen.has(x)) throw new AggregationError(`Share point ${x} appears twice.`, 'BAD_SHARE');
    seen.add(x);
  }
}

/** Splits `secret` into one share per x in `xs`; any `threshold` of them recover it. Coefficients from the OS CSPRNG. */
export function splitSecret(
  secret: Uint8Array,
  xs: readonly number[],
  threshold: number,
  fillRandom: (bytes: Uint8Array) => void = (b) => randomFillSync(b),
): Share[] {
  checkPoints(xs);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > xs.length)
    throw new AggregationError(
      `A threshold of ${threshold} needs between 1 and ${xs.length} (the number of shares).`,
      'BAD_THRESHOLD',
    );
  // coefficients[k * len + i]: coefficient of x^(k+1) of byte i's polynomial
  const coefficients = new Uint8Array((threshold - 1) * secret.length);
  fillRandom(coefficients);
  const shares = xs.map((x) => ({ x, y: new Uint8Array(secret.length) }));
  for (const share of shares) {
    for (let i = 0; i < secret.length; i++) {
      // Horner from the highest degree down to the secret byte.
      let value = 0;
      for (let k = threshold - 2; k >= 0; k--)
        value = gfMul(value, share.x) ^ coefficients[k * secret.length + i]!;
      share.y[i] = gfMul(value, share.x) ^ secret[i]!;
    }
  }
  coefficients.fill(0);
  return shares;
}

/** The value at `at` of the polynomial through `shares` (Lagrange; addition and subtraction are xor). */
function interpolate(shares: readonly Share[], at: number): Uint8Array {
  const length = shares[0]!.y.length;
  const out = new Uint8Array(length);
  for (const [j, sj] of shares.entries()) {
    let basis = 1;
    for (const [m, sm] of shares.entries()) {
      if (m === j) continue;
      basis = gfMul(basis, gfDiv(at ^ sm.x, sj.x ^ sm.x));
    }
    if (basis === 0) continue;
    for (let i = 0; i < length; i++) out[i]! ^= gfMul(basis, sj.y[i]!);
  }
  return out;
}

/**
 * Recovers the secret from at least `threshold` shares. Shares beyond the threshold are checked against the
 * polynomial the first `threshold` define, so a site that sent a wrong share is caught, not silently used.
 */
export function combineShares(shares: readonly Share[], threshold: number): Uint8Array {
  if (shares.length < threshold)
    throw new AggregationError(
      `${shares.length} share(s) cannot recover a secret shared with threshold ${threshold}.`,
      'TOO_FEW_SHARES',
    );
  checkPoints(shares.map((s) => s.x));
  const length = shares[0]!.y.length;
  if (shares.some((s) => s.y.length !== length))
    throw new AggregationError('Shares of one secret differ in length.', 'BAD_SHARE');
  const basis = shares.slice(0, threshold);
  for (const extra of shares.slice(threshold)) {
    const expected = interpolate(basis, extra.x);
    if (expected.some((b, i) => b !== extra.y[i]))
      throw new AggregationError(
        `The share at point ${extra.x} disagrees with the others: a site sent a wrong share.`,
        'INCONSISTENT_SHARES',
        { x: extra.x },
      );
  }
  return interpolate(basis, 0);
}
