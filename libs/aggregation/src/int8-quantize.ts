import { UpdateCodecError } from './aggregation-error';
import type { Rng } from './rng';

// Math functions bound once: hot loops then skip a global lookup, which is slow inside jest's vm context.
const { abs, round, floor, max, min, fround } = Math;
const { isFinite } = Number;

/**
 * Symmetric int8 quantization with one scale per segment (tensor): scale = max|x| / 127, q in [-127, 127].
 *  - nearest: q = round(x / scale); |x - q scale| <= scale / 2; biased.
 *  - stochastic (Gupta et al., 2015, "Deep Learning with Limited Numerical Precision"): q = floor(x / scale + u),
 *    u ~ U[0, 1): E[q scale] = x (unbiased, so errors average out over sites), |x - q scale| < scale.
 * Scales are float32 and quantization uses the stored (rounded) scale, so decoding reproduces q * scale.
 */
export function quantizeInt8(
  src: Float32Array,
  segmentLengths: readonly number[],
  rounding: 'nearest' | 'stochastic',
  rng: Rng | undefined,
): { q: Int8Array; scales: Float32Array } {
  const q = new Int8Array(src.length);
  const scales = new Float32Array(segmentLengths.length);
  let start = 0;
  segmentLengths.forEach((len, s) => {
    const end = start + len;
    let maxAbs = 0;
    for (let i = start; i < end; i++) {
      const a = abs(src[i]);
      if (!(a <= maxAbs)) {
        if (!isFinite(a))
          throw new UpdateCodecError(
            `Update value ${src[i]} at index ${i} is not finite; the site's training diverged.`,
          );
        maxAbs = a;
      }
    }
    const scale = fround(maxAbs / 127);
    scales[s] = scale;
    if (scale > 0) {
      const inv = 1 / scale;
      if (rounding === 'nearest') {
        for (let i = start; i < end; i++) q[i] = max(-127, min(127, round(src[i] * inv)));
      } else {
        if (!rng) throw new UpdateCodecError('Stochastic rounding needs a random source.');
        for (let i = start; i < end; i++) {
          const u = rng.nextUint32() / 4294967296;
          q[i] = max(-127, min(127, floor(src[i] * inv + u)));
        }
      }
    }
    start = end;
  });
  return { q, scales };
}

export function dequantizeInt8(
  q: Int8Array,
  scales: Float32Array,
  segmentLengths: ArrayLike<number>,
  out: Float32Array,
): Float32Array {
  let start = 0;
  for (let s = 0; s < segmentLengths.length; s++) {
    const end = start + segmentLengths[s];
    const scale = scales[s];
    for (let i = start; i < end; i++) out[i] = q[i] * scale;
    start = end;
  }
  return out;
}
