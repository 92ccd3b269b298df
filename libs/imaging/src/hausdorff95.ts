import { hausdorffDistance } from './hausdorff-distance';

/** 95th-percentile Hausdorff distance in mm (see hausdorffDistance for the definition and the NaN convention). */
export function hausdorff95(
  prediction: ArrayLike<number>,
  reference: ArrayLike<number>,
  shape: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  label = 1,
): number {
  return hausdorffDistance(prediction, reference, shape, spacingMm, label, 95);
}
