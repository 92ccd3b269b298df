import { AggregationError, assertLength } from './aggregation-error';
import type { SiteUpdate } from './site-update';
import { sortSmall } from './sort-small';

/** How many values trimmed-mean drops from each end for N updates: floor(beta * N). */
export function trimCount(n: number, beta: number): number {
  return Math.floor(beta * n + 1e-9);
}

/**
 * Coordinate-wise trimmed mean (Yin, Chen, Ramchandran & Bartlett, 2018): per coordinate, drop the
 * b = floor(beta * N) largest and b smallest values and average the rest (unweighted). With at most b
 * faulty sites every out[i] lies within the honest sites' values at i.
 */
export function trimmedMean(out: Float32Array, updates: readonly SiteUpdate[], beta: number): Float32Array {
  const n = updates.length;
  if (n === 0) throw new AggregationError('Trimmed mean of no updates.', 'NO_UPDATES');
  if (!(beta >= 0 && beta < 0.5))
    throw new AggregationError(`Trimmed-mean beta must be in [0, 0.5), got ${beta}.`);
  for (const u of updates) assertLength(u.weights, out.length, u.siteId);
  const b = trimCount(n, beta);
  const kept = n - 2 * b;
  const ws = updates.map((u) => u.weights);
  const col = new Float64Array(n);
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < n; k++) col[k] = ws[k][i];
    sortSmall(col, n);
    let s = 0;
    for (let k = b; k < n - b; k++) s += col[k];
    out[i] = s / kept;
  }
  return out;
}
