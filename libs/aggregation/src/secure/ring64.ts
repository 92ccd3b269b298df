import { AggregationError } from '../aggregation-error';

/**
 * Fixed-point vectors in the ring Z_2^64, where masks cancel exactly (float masks would not). Element i is
 * two little-endian 32-bit limbs, words 2i (low) and 2i + 1 (high): the same bytes as a BigUint64Array,
 * handled as Uint32 because BigInt arithmetic is far slower in V8.
 *
 * A value x is round(x * 2^32) in two's complement. Encoding is exact while |x| < 2^20 (x * 2^32 stays an
 * integer a double holds exactly), and a sum of up to 2^11 such values cannot wrap (2^11 * 2^52 < 2^63).
 */
export const FRACTION_BITS = 32;
const SCALE = 2 ** FRACTION_BITS;
const TWO32 = 2 ** 32;
export const MAX_ENCODED_MAGNITUDE = 2 ** 20;

/** x * weight for every x, encoded. Throws (naming the index) on a value the ring cannot hold exactly. */
export function encodeFixedPoint(values: ArrayLike<number>, weight = 1): Uint32Array {
  const out = new Uint32Array(values.length * 2);
  addFixedPoint(out, values, weight); // onto zeros: no carry, just the encoding
  return out;
}

/**
 * acc += encodeFixedPoint(values, weight), in one pass without the temporary: how the coordinator sums plain
 * updates exactly the way masked ones are summed, so both give the same bits whatever their order.
 * `indexOffset`: where `values` start in the whole vector when they are a slice of it (errors name the index
 * in the whole vector); the arithmetic is per element, so summing slice by slice gives the same bits.
 */
export function addFixedPoint(
  acc: Uint32Array,
  values: ArrayLike<number>,
  weight: number,
  indexOffset = 0,
): void {
  if (acc.length !== values.length * 2)
    throw new AggregationError(
      `A sum of ${acc.length / 2} values cannot take ${values.length}.`,
      'UPDATE_LENGTH_MISMATCH',
    );
  for (let i = 0; i < values.length; i++) {
    const x = values[i]! * weight;
    if (!(Math.abs(x) < MAX_ENCODED_MAGNITUDE))
      throw new AggregationError(
        `Value ${x} at index ${indexOffset + i} is outside the fixed-point range (|x| < 2^20) or not finite; clip the update (strategy.updateNormBound or privacy.clipNorm).`,
        'FIXED_POINT_RANGE',
        { index: indexOffset + i },
      );
    const v = Math.round(x * SCALE);
    const hi = Math.floor(v / TWO32);
    const lo = acc[2 * i]! + (v - hi * TWO32);
    acc[2 * i] = lo;
    acc[2 * i + 1] = acc[2 * i + 1]! + hi + (lo >= TWO32 ? 1 : 0);
  }
}

/** Back to numbers: the high limb read as signed. */
export function decodeFixedPoint(ring: Uint32Array, scale = 1): Float64Array {
  const out = new Float64Array(ring.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = fixedPointAt(ring, i) * scale;
  return out;
}

/** Element i of a fixed-point ring vector as a number, without decoding the whole vector (memory at scale). */
export function fixedPointAt(ring: Uint32Array, i: number): number {
  return (ring[2 * i + 1]! | 0) + ring[2 * i]! / TWO32;
}

function checkLengths(a: Uint32Array, b: Uint32Array): void {
  if (a.length !== b.length || a.length % 2 !== 0)
    throw new AggregationError(
      `Ring vectors of ${a.length / 2} and ${b.length / 2} elements cannot be added.`,
      'UPDATE_LENGTH_MISMATCH',
    );
}

/** The same bytes as 64-bit lanes, where the view is 8-byte aligned (BigUint64Array wraps mod 2^64 on store). */
function lanes(a: Uint32Array): BigUint64Array | null {
  return a.byteOffset % 8 === 0 ? new BigUint64Array(a.buffer, a.byteOffset, a.length / 2) : null;
}

/**
 * acc += v (mod 2^64), in place. On aligned views V8 adds the 64-bit lanes directly (about 3x faster than
 * carrying between 32-bit limbs by hand, which remains for views that are not 8-byte aligned).
 */
export function addRing(acc: Uint32Array, v: Uint32Array): void {
  checkLengths(acc, v);
  const a = lanes(acc);
  const b = lanes(v);
  if (a && b) {
    for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
    return;
  }
  for (let i = 0; i < acc.length; i += 2) {
    const lo = acc[i]! + v[i]!;
    acc[i] = lo; // Uint32Array stores lo mod 2^32
    acc[i + 1] = acc[i + 1]! + v[i + 1]! + (lo >= TWO32 ? 1 : 0);
  }
}

/** acc -= v (mod 2^64), in place. */
export function subtractRing(acc: Uint32Array, v: Uint32Array): void {
  checkLengths(acc, v);
  const a = lanes(acc);
  const b = lanes(v);
  if (a && b) {
    for (let i = 0; i < a.length; i++) a[i]! -= b[i]!;
    return;
  }
  for (let i = 0; i < acc.length; i += 2) {
    const lo = acc[i]! - v[i]!;
    acc[i] = lo;
    acc[i + 1] = acc[i + 1]! - v[i + 1]! - (lo < 0 ? 1 : 0);
  }
}
