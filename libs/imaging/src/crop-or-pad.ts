import { extractPatch } from './sample-patches';
import { assertLabel, assertVolume, type Shape3, type Volume } from './volume';

/**
 * Centre crop and/or zero pad to `targetShape`, per axis: a larger axis loses floor((n - t) / 2) voxels at the start,
 * a smaller one gains floor((t - n) / 2) zeros there (the rest at the end). Image and label stay aligned.
 */
export function cropOrPad(
  volume: Volume,
  label: Uint8Array,
  targetShape: Shape3,
): { image: Volume; label: Uint8Array } {
  assertVolume(volume);
  assertLabel(label, volume.shape);
  const start = [0, 1, 2].map((a) => Math.floor((volume.shape[a] - targetShape[a]) / 2)) as Shape3;
  const patch = extractPatch(volume, label, start, targetShape, volume.shape);
  return {
    image: {
      data: patch.image,
      shape: [...targetShape],
      spacingMm: [...volume.spacingMm],
      channels: volume.channels,
    },
    label: patch.label,
  };
}
