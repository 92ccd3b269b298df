import { surfaceDistances } from './surface-distances';

/**
 * Average symmetric surface distance (ASSD) in mm:
 * (sum_{p in S_pred} d(p, S_ref) + sum_{r in S_ref} d(r, S_pred)) / (|S_pred| + |S_ref|), S = surface voxels.
 * NaN when either mask is empty (same convention as hausdorffDistance).
 */
export function averageSurfaceDistance(
  prediction: ArrayLike<number>,
  reference: ArrayLike<number>,
  shape: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  label = 1,
): number {
  const d = surfaceDistances(prediction, reference, shape, spacingMm, label);
  if (!d) return NaN;
  let sum = 0;
  for (const x of d.predictionToReference) sum += x;
  for (const x of d.referenceToPrediction) sum += x;
  return sum / (d.predictionToReference.length + d.referenceToPrediction.length);
}
