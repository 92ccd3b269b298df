import { euclideanDistanceTransform } from './distance-transform';
import { ImagingArgumentError } from './imaging-errors';
import { surfaceVoxels } from './surface-voxels';
import { voxelCount } from './volume';

export interface SurfaceDistances {
  /** For every prediction surface voxel, the distance (mm) to the nearest reference surface voxel. */
  predictionToReference: Float64Array;
  /** For every reference surface voxel, the distance (mm) to the nearest prediction surface voxel. */
  referenceToPrediction: Float64Array;
}

/**
 * Both directed surface-distance sets for class `label`, via one exact EDT per surface (O(N)).
 * Returns undefined when either mask is empty: the distances are then undefined (see hausdorff95).
 */
export function surfaceDistances(
  prediction: ArrayLike<number>,
  reference: ArrayLike<number>,
  shape: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  label = 1,
): SurfaceDistances | undefined {
  const n = voxelCount(shape);
  if (prediction.length !== n || reference.length !== n) {
    throw new ImagingArgumentError(
      `surface distances: prediction ${prediction.length} / reference ${reference.length} values for shape ${shape.join('x')}`,
    );
  }
  const predSurface = surfaceVoxels(prediction, shape, label);
  const refSurface = surfaceVoxels(reference, shape, label);
  const toRef = euclideanDistanceTransform(refSurface, shape, spacingMm);
  const toPred = euclideanDistanceTransform(predSurface, shape, spacingMm);
  const predictionToReference = gather(predSurface, toRef);
  const referenceToPrediction = gather(refSurface, toPred);
  if (predictionToReference.length === 0 || referenceToPrediction.length === 0) return undefined;
  return { predictionToReference, referenceToPrediction };
}

function gather(surface: Uint8Array, distance: Float64Array): Float64Array {
  let count = 0;
  for (let i = 0; i < surface.length; i++) count += surface[i];
  const out = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < surface.length; i++) if (surface[i]) out[k++] = distance[i];
  return out;
}

/** Linear-interpolation percentile (numpy's default "linear" method), p in [0, 100]. Sorts a copy. */
export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
}
