import { cropLabel, cropVolume, foregroundBoundingBox, uncropLabel, type BoundingBox } from './bounding-box';
import { ImagingArgumentError } from './imaging-errors';
import { resampleLabel, resampleLabelToGrid, resampleVolume } from './resample';
import { assertLabel, assertVolume, type Shape3, type Volume } from './volume';

/** Where a case came from: enough to bring a prediction back to its native grid. */
export interface NativeGrid {
  shape: Shape3;
  spacingMm: [number, number, number];
  /** The body box in native voxels; the plan-grid volume covers exactly this box. */
  crop: BoundingBox;
}

export interface PlanGridCase {
  /** Cropped to the body and resampled (trilinear) to the plan's spacing. */
  image: Volume;
  /** Same crop, resampled by nearest neighbour; absent when no label was given (inference only). */
  label?: Uint8Array;
  native: NativeGrid;
}

export interface PlanGridOptions {
  /** Body threshold for the crop (see foregroundBoundingBox); default: any channel non-zero. */
  cropThreshold?: number;
  /** Voxels kept around the body box (native grid). Default 0. */
  cropMarginVoxels?: number;
  /** Skip cropping (the whole native volume is resampled). Default false. */
  noCrop?: boolean;
}

/**
 * A site's view of one case under a study plan (nnU-Net's preprocessing order): crop the native volume to the
 * body's bounding box (cheaper than cropping after upsampling, and the box is exact in native voxels), then
 * resample image (trilinear) and label (nearest) to the plan's target spacing. Give it the raw image: the
 * default body test is "non-zero", which intensity normalization destroys; normalize afterwards
 * (normalizeForPlan with the plan's per-channel scheme).
 */
export function toPlanGrid(
  image: Volume,
  label: Uint8Array | undefined,
  targetSpacingMm: readonly [number, number, number],
  options: PlanGridOptions = {},
): PlanGridCase {
  assertVolume(image);
  if (label) assertLabel(label, image.shape);
  const crop: BoundingBox = options.noCrop
    ? { start: [0, 0, 0], shape: [...image.shape] }
    : foregroundBoundingBox(image, {
        threshold: options.cropThreshold,
        marginVoxels: options.cropMarginVoxels,
      });
  const cropped = cropVolume(image, crop);
  const resampled = resampleVolume(cropped, targetSpacingMm);
  const native: NativeGrid = { shape: [...image.shape], spacingMm: [...image.spacingMm], crop };
  if (!label) return { image: resampled, native };
  const l = resampleLabel(cropLabel(label, image.shape, crop), crop.shape, image.spacingMm, targetSpacingMm);
  return { image: resampled, label: l.label, native };
}

/**
 * A label map predicted on the plan grid (`planShape` at `planSpacingMm`, as toPlanGrid produced) brought back
 * to the case's native grid: nearest-neighbour resampling onto the crop box's native voxels, then background
 * outside the box. Metrics are then measured in the case's own space (mm), as the issue and nnU-Net do.
 */
export function labelToNativeGrid(
  predicted: Uint8Array,
  planShape: readonly [number, number, number],
  planSpacingMm: readonly [number, number, number],
  native: NativeGrid,
): Uint8Array {
  assertLabel(predicted, planShape, 'predicted label');
  if (native.crop.shape.some((n, a) => n > native.shape[a]))
    throw new ImagingArgumentError(`crop ${native.crop.shape.join('x')} exceeds ${native.shape.join('x')}`);
  const inBox = resampleLabelToGrid(predicted, planShape, planSpacingMm, native.crop.shape, native.spacingMm);
  return uncropLabel(inBox, native.crop, native.shape);
}
