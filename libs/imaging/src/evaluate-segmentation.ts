import { averageSurfaceDistance } from './average-surface-distance';
import { diceScore } from './dice-score';
import { hausdorff95 } from './hausdorff95';

export interface ClassMetrics {
  label: number;
  dice: number;
  hd95Mm: number;
  assdMm: number;
}

/**
 * Dice, HD95 and ASSD for each foreground class of one case (the seed's metrics, DESIGN.md "Rounds").
 * NaN entries follow diceScore / hausdorffDistance: the class is absent, the metric is undefined.
 */
export function evaluateSegmentation(
  prediction: ArrayLike<number>,
  reference: ArrayLike<number>,
  shape: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  labels: readonly number[],
): ClassMetrics[] {
  return labels.map((label) => ({
    label,
    dice: diceScore(prediction, reference, label),
    hd95Mm: hausdorff95(prediction, reference, shape, spacingMm, label),
    assdMm: averageSurfaceDistance(prediction, reference, shape, spacingMm, label),
  }));
}
