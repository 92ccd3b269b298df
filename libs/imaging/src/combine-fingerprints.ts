import type {
  AxisDistribution,
  CombinedFingerprint,
  PooledModality,
  SiteFingerprint,
} from '@fedseg/protocol';
import { FingerprintError } from './imaging-errors';
import { voxelCount } from './volume';

/** Linear-interpolation percentile of sorted values (numpy's default, method='linear'); q in [0, 100]. */
export function percentileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = ((sorted.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function axisDistribution(values: ReadonlyArray<readonly number[]>): AxisDistribution {
  const axes = [0, 1, 2].map((a) => values.map((v) => v[a]).sort((x, y) => x - y));
  const at = (q: number): [number, number, number] =>
    axes.map((s) => percentileOfSorted(s, q)) as [number, number, number];
  return { min: at(0), p10: at(10), median: at(50), p90: at(90), max: at(100) };
}

/**
 * The q-th percentile (0..100) of the pooled intensity distribution of several histograms, each bin read as
 * its count spread evenly over [edge, edge + width) (a zero-width histogram is a point mass at lo). The CDF of
 * that mixture is continuous and monotone between masses, so bisection finds the value to float precision.
 */
export function pooledHistogramPercentile(
  histograms: ReadonlyArray<{ lo: number; hi: number; counts: readonly number[] }>,
  q: number,
): number {
  const total = histograms.reduce((a, h) => a + h.counts.reduce((b, n) => b + n, 0), 0);
  if (total === 0) return NaN;
  const target = (total * q) / 100;
  const below = (x: number): number => {
    let n = 0;
    for (const h of histograms) {
      const width = (h.hi - h.lo) / h.counts.length;
      h.counts.forEach((count, b) => {
        if (width === 0) n += x >= h.lo ? count : 0;
        else n += count * Math.min(1, Math.max(0, (x - (h.lo + b * width)) / width));
      });
    }
    return n;
  };
  let lo = Math.min(...histograms.map((h) => h.lo));
  let hi = Math.max(...histograms.map((h) => h.hi));
  for (let i = 0; i < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(lo), Math.abs(hi)); i++) {
    const mid = (lo + hi) / 2;
    if (below(mid) < target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Pools every site's fingerprint (the coordinator's side of the fingerprint phase): per-axis distributions of
 * the cases' spacing, native shape and body extent in mm over all sites; per modality the 0.5/99.5 percentiles
 * of the pooled histograms and the exact pooled mean and std (from each site's voxels, mean and std); class
 * volume fractions weighted by each site's voxels; the smallest reported memory budget. Sites must agree on
 * modalities (by name, in order) and the number of classes.
 */
export function combineFingerprints(sites: readonly SiteFingerprint[]): CombinedFingerprint {
  if (sites.length === 0) throw new FingerprintError('no site fingerprint to combine');
  const first = sites[0];
  const names = first.modalities.map((m) => m.modality);
  sites.forEach((s, i) => {
    const theirs = s.modalities.map((m) => m.modality);
    if (theirs.join('\u0000') !== names.join('\u0000'))
      throw new FingerprintError(
        `site ${i} reports modalities ${theirs.join(', ')}; site 0 reports ${names.join(', ')}`,
      );
    if (s.numClasses !== first.numClasses)
      throw new FingerprintError(
        `site ${i} reports ${s.numClasses} classes; site 0 reports ${first.numClasses}`,
      );
  });
  const cases = sites.flatMap((s) => s.cases);
  const modalities: PooledModality[] = names.map((modality, ch) => {
    const per = sites.map((s) => s.modalities[ch]);
    const voxels = per.reduce((a, m) => a + m.voxels, 0);
    const mean = voxels > 0 ? per.reduce((a, m) => a + m.voxels * m.mean, 0) / voxels : 0;
    // Pooled variance: E[x^2] - mean^2 with E[x^2] = sum n_i (std_i^2 + mean_i^2) / n.
    const meanSq =
      voxels > 0 ? per.reduce((a, m) => a + m.voxels * (m.std ** 2 + m.mean ** 2), 0) / voxels : 0;
    return {
      modality,
      p00_5: pooledHistogramPercentile(per, 0.5),
      p99_5: pooledHistogramPercentile(per, 99.5),
      mean,
      std: Math.sqrt(Math.max(0, meanSq - mean * mean)),
      voxels,
    };
  });
  const siteVoxels = sites.map((s) => s.cases.reduce((a, c) => a + voxelCount(c.shape), 0));
  const allVoxels = siteVoxels.reduce((a, n) => a + n, 0);
  const classVolumeFractions = Array.from(
    { length: first.numClasses },
    (_, k) => sites.reduce((a, s, i) => a + s.classVolumeFractions[k] * siteVoxels[i], 0) / allVoxels,
  );
  const budgets = sites.flatMap((s) => (s.memoryBudgetMb === undefined ? [] : [s.memoryBudgetMb]));
  return {
    sites: sites.length,
    cases: cases.length,
    spacingMm: axisDistribution(cases.map((c) => c.spacingMm)),
    shape: axisDistribution(cases.map((c) => c.shape)),
    bodyShape: axisDistribution(cases.map((c) => c.bodyShape)),
    bodyExtentMm: axisDistribution(cases.map((c) => c.bodyShape.map((n, a) => n * c.spacingMm[a]))),
    modalities,
    numClasses: first.numClasses,
    classVolumeFractions,
    ...(budgets.length > 0 ? { memoryBudgetMb: Math.min(...budgets) } : {}),
  };
}
