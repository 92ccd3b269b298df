/** Sample-weighted mean of per-site values; null when no site reported a finite value with samples. */
export function weightedMean(values: ReadonlyArray<{ value: number; samples: number }>): number | null {
  let sum = 0;
  let weight = 0;
  for (const v of values) {
    if (!Number.isFinite(v.value) || v.samples <= 0) continue;
    sum += v.value * v.samples;
    weight += v.samples;
  }
  return weight > 0 ? sum / weight : null;
}
