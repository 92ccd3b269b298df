import { AggregationError } from './aggregation-error';

/** L2 norm of a vector, accumulated in float64. */
export function l2Norm(v: Float32Array): number {
  return Math.sqrt(addSquares(0, v));
}

/**
 * sum + the squares of v's values, accumulated in float64 in index order: l2Norm of a vector read in slices is
 * Math.sqrt of this folded over the slices in order, the same bits as l2Norm of the whole.
 */
export function addSquares(sum: number, v: Float32Array): number {
  let s = sum;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return s;
}

/** L2 norm of (w - g) without materializing the difference. */
export function distanceNorm(w: Float32Array, g: Float32Array): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) {
    const d = w[i] - g[i];
    s += d * d;
  }
  return Math.sqrt(s);
}

/** The factor min(1, bound / norm) that brings a vector of L2 norm `norm` within `bound`. */
export function clipScale(norm: number, bound: number, siteId?: string): number {
  if (!(bound > 0)) throw new AggregationError(`Clipping bound must be positive, got ${bound}.`);
  if (!Number.isFinite(norm)) {
    const who = siteId === undefined ? 'The update' : `The update from site ${siteId}`;
    throw new AggregationError(
      `${who} holds NaN or Infinity; its training diverged.`,
      'UPDATE_NOT_FINITE',
      siteId === undefined ? undefined : { siteId },
    );
  }
  return norm > bound ? bound / norm : 1;
}

/**
 * Scales `delta` in place to L2 norm at most `clipNorm` (DP-FedAvg's per-site clipping, McMahan et al.,
 * 2018; also update-norm bounding against backdoors, Sun et al., 2019). Returns the norm before clipping
 * and the factor applied.
 */
export function clipUpdate(delta: Float32Array, clipNorm: number): { norm: number; scale: number } {
  const norm = l2Norm(delta);
  const scale = clipScale(norm, clipNorm);
  if (scale < 1) for (let i = 0; i < delta.length; i++) delta[i] *= scale;
  return { norm, scale };
}

/** Index of the first NaN or +-Infinity in `v`, or -1 (x - x is 0 only for finite x). */
export function firstNonFinite(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) return i;
  }
  return -1;
}
