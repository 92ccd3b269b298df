import { percentile, surfaceDistances } from './surface-distances';

/**
 * Hausdorff distance at a percentile, in mm, between the surfaces of `prediction == label` and
 * `reference == label`: max(P_p(d(pred -> ref)), P_p(d(ref -> pred))) over surface voxels (the symmetric
 * definition MONAI's compute_hausdorff_distance uses, percentile by linear interpolation). p = 100 is the
 * classic Hausdorff distance.
 *
 * Empty masks: NaN when either the prediction or the reference has no voxel of `label` (the distance is
 * undefined). Accumulators exclude NaN from means and count it; Dice already scores a missed structure 0.
 */
export function hausdorffDistance(
  prediction: ArrayLike<number>,
  reference: ArrayLike<number>,
  shape: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  label = 1,
  percentileRank = 100,
): number {
  const d = surfaceDistances(prediction, reference, shape, spacingMm, label);
  if (!d) return NaN;
  return Math.max(
    percentile(d.predictionToReference, percentileRank),
    percentile(d.referenceToPrediction, percentileRank),
  );
}
