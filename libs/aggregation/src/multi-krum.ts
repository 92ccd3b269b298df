import { AggregationError, assertLength } from './aggregation-error';
import { bestScores, krumScores } from './krum';
import type { SiteUpdate } from './site-update';

/**
 * Multi-Krum (Blanchard, El Mhamdi, Guerraoui & Stainer, 2017, section 5): the unweighted mean of the m
 * updates with the lowest Krum scores (scores computed once over all N). m = 1 is Krum; m = N is the plain
 * mean. Requires N >= 2f + 3 and 1 <= m <= N.
 */
export function multiKrum(
  out: Float32Array,
  updates: readonly SiteUpdate[],
  byzantine: number,
  keep: number,
): { out: Float32Array; selected: string[] } {
  const scores = krumScores(updates, byzantine);
  if (!Number.isInteger(keep) || keep < 1 || keep > updates.length) {
    throw new AggregationError(
      `Multi-Krum keeps m updates with 1 <= m <= N = ${updates.length}, got m = ${keep}.`,
    );
  }
  const chosen = bestScores(scores, keep).map((k) => updates[k]);
  for (const u of chosen) assertLength(u.weights, out.length, u.siteId);
  const acc = new Float64Array(out.length);
  for (const u of chosen) {
    const w = u.weights;
    for (let i = 0; i < acc.length; i++) acc[i] += w[i];
  }
  for (let i = 0; i < out.length; i++) out[i] = acc[i] / keep;
  return { out, selected: chosen.map((u) => u.siteId) };
}
