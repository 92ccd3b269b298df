/**
 * Sample-weighted mean of per-site values; null when no site reported a finite value with samples. The study
 * figure of each metric name a site reports (`dice`, `hd95`, `dice_c2`, ...): a site that left a metric out
 * (undefined there, e.g. HD95 of a class no validation case has) does not count. The weight is the site's
 * validation cases, not the cases where the metric was defined, so with classes missing from some cases the
 * figure approximates the mean over all defined cases.
 */
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
