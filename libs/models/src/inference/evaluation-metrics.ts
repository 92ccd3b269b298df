import type { SegmentationEvaluation } from './evaluate-segmentation';

/** Wire names of metrics (libs/protocol MetricsReport): lower snake case. */
export const METRIC_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * The aggregate figures a site may send for one evaluation, under their wire names: `dice`, `hd95`, `assd`
 * (mean over foreground classes; HD95 and ASSD in mm), `loss`, and per foreground class k `dice_c<k>`,
 * `hd95_c<k>`, `assd_c<k>` (each the mean over the site's cases where it is defined). Undefined figures (NaN:
 * the class is absent from every case's reference, or from every prediction for HD95/ASSD) and infinite ones
 * are left out: JSON has no NaN, and a missing name means "undefined at this site". Nothing per case.
 */
export function evaluationMetrics(evaluation: SegmentationEvaluation): Record<string, number> {
  const entries: [string, number][] = [
    ['dice', evaluation.dice],
    ['hd95', evaluation.hd95Mm],
    ['assd', evaluation.assdMm],
    ['loss', evaluation.loss],
    ...evaluation.perClass.flatMap((c): [string, number][] => [
      [`dice_c${c.label}`, c.dice.mean],
      [`hd95_c${c.label}`, c.hd95Mm.mean],
      [`assd_c${c.label}`, c.assdMm.mean],
    ]),
  ];
  return Object.fromEntries(entries.filter(([, value]) => Number.isFinite(value)));
}
