import type { ClassMetrics } from './evaluate-segmentation';

export interface MetricSummary {
  /** Mean over the cases where the metric is defined (NaN excluded); NaN when no case defines it. */
  mean: number;
  /** Cases that contributed to the mean. */
  defined: number;
  /** Cases where the metric was NaN (class absent from prediction and/or reference): counted, not averaged. */
  undefinedCases: number;
}

export interface ClassSummary {
  label: number;
  dice: MetricSummary;
  hd95Mm: MetricSummary;
  assdMm: MetricSummary;
}

/**
 * The thin accumulator over per-case results of evaluateSegmentation (MONAI's pattern: pure metric + reduction that
 * excludes NaN from means and reports how many it excluded). Aggregates like these are what a site may send;
 * per-case values stay local.
 */
export function summarizeMetrics(cases: ReadonlyArray<readonly ClassMetrics[]>): ClassSummary[] {
  const labels = [...new Set(cases.flatMap((c) => c.map((m) => m.label)))].sort((a, b) => a - b);
  return labels.map((label) => {
    const rows = cases
      .map((c) => c.find((m) => m.label === label))
      .filter((m): m is ClassMetrics => m !== undefined);
    return {
      label,
      dice: reduce(rows.map((r) => r.dice)),
      hd95Mm: reduce(rows.map((r) => r.hd95Mm)),
      assdMm: reduce(rows.map((r) => r.assdMm)),
    };
  });
}

function reduce(values: number[]): MetricSummary {
  const defined = values.filter((v) => !Number.isNaN(v));
  return {
    mean: defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : NaN,
    defined: defined.length,
    undefinedCases: values.length - defined.length,
  };
}
