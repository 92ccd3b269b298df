import { AggregationError, assertLength } from './aggregation-error';
import type { SiteUpdate } from './site-update';

const BLOCK = 2048;

/** Squared L2 distances between all pairs of updates (float64, N x N row-major), blocked over coordinates. */
export function pairwiseSquaredDistances(updates: readonly SiteUpdate[]): Float64Array {
  const n = updates.length;
  const ws = updates.map((u) => u.weights);
  const p = n > 0 ? ws[0].length : 0;
  const d = new Float64Array(n * n);
  for (let start = 0; start < p; start += BLOCK) {
    const end = Math.min(start + BLOCK, p);
    for (let a = 0; a < n; a++) {
      const wa = ws[a];
      for (let b = a + 1; b < n; b++) {
        const wb = ws[b];
        let s = 0;
        for (let i = start; i < end; i++) {
          const x = wa[i] - wb[i];
          s += x * x;
        }
        d[a * n + b] += s;
      }
    }
  }
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) d[b * n + a] = d[a * n + b];
  return d;
}

/**
 * Krum scores (Blanchard, El Mhamdi, Guerraoui & Stainer, 2017, "Machine Learning with Adversaries:
 * Byzantine Tolerant Gradient Descent"): score(k) = sum of the squared distances from w_k to its N - f - 2
 * nearest other updates. Requires N >= 2f + 3.
 */
export function krumScores(updates: readonly SiteUpdate[], byzantine: number): Float64Array {
  const n = updates.length;
  if (!Number.isInteger(byzantine) || byzantine < 0)
    throw new AggregationError(`Krum's f must be a non-negative integer, got ${byzantine}.`);
  if (n < 2 * byzantine + 3) {
    throw new AggregationError(
      `Krum with f = ${byzantine} needs at least ${2 * byzantine + 3} updates (N >= 2f + 3) but got ${n}; lower f or wait for more sites.`,
      'TOO_FEW_UPDATES',
      { updates: n, byzantine },
    );
  }
  const p = updates[0].weights.length;
  for (const u of updates) assertLength(u.weights, p, u.siteId);
  const d = pairwiseSquaredDistances(updates);
  const neighbours = n - byzantine - 2;
  const scores = new Float64Array(n);
  const row = new Float64Array(n - 1);
  for (let a = 0; a < n; a++) {
    let m = 0;
    for (let b = 0; b < n; b++) if (b !== a) row[m++] = d[a * n + b];
    row.sort();
    let s = 0;
    for (let j = 0; j < neighbours; j++) s += row[j];
    scores[a] = s;
  }
  return scores;
}

/** Indices of the `count` lowest scores, lowest first (ties: lower index first). */
export function bestScores(scores: Float64Array, count: number): number[] {
  return Array.from(scores.keys())
    .sort((a, b) => scores[a] - scores[b] || a - b)
    .slice(0, count);
}

/**
 * Krum (Blanchard et al., 2017): out = the single update with the lowest Krum score. Returns the chosen
 * site too (for the audit log). Unweighted by samples.
 */
export function krum(
  out: Float32Array,
  updates: readonly SiteUpdate[],
  byzantine: number,
): { out: Float32Array; selected: string[] } {
  const scores = krumScores(updates, byzantine);
  assertLength(updates[0].weights, out.length, updates[0].siteId);
  const best = bestScores(scores, 1)[0];
  out.set(updates[best].weights);
  return { out, selected: [updates[best].siteId] };
}
