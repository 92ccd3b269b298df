import { AggregationError, assertLength } from './aggregation-error';
import type { SiteUpdate } from './site-update';
import { sortSmall } from './sort-small';

/**
 * Coordinate-wise median (Yin, Chen, Ramchandran & Bartlett, 2018, "Byzantine-Robust Distributed Learning:
 * Towards Optimal Statistical Rates"): out[i] = median_k w_k[i], the mean of the two middle values when N is
 * even. Unweighted: sample counts are a site's own claim and a faulty site could inflate them.
 * While fewer than half the sites are faulty, every out[i] lies within the honest sites' values at i.
 */
export function median(out: Float32Array, updates: readonly SiteUpdate[]): Float32Array {
  const n = updates.length;
  if (n === 0) throw new AggregationError('Median of no updates.', 'NO_UPDATES');
  for (const u of updates) assertLength(u.weights, out.length, u.siteId);
  const ws = updates.map((u) => u.weights);
  const col = new Float64Array(n);
  const lo = (n - 1) >> 1;
  const hi = n >> 1;
  for (let i = 0; i < out.length; i++) {
    for (let k = 0; k < n; k++) col[k] = ws[k][i];
    sortSmall(col, n);
    out[i] = (col[lo] + col[hi]) / 2;
  }
  return out;
}
