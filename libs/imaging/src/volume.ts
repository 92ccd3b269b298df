import { ImagingArgumentError } from './imaging-errors';

/**
 * A 3D image in NIfTI voxel order: x fastest, index = x + nx*(y + ny*z), `shape` = [nx, ny, nz] and
 * `spacingMm` = [dx, dy, dz]. Multi-channel images (MRI modalities) are channels-last:
 * index ((z*ny + y)*nx + x)*channels + c, which is exactly a tfjs tensor [nz, ny, nx, channels], no copy.
 */
export interface Volume {
  data: Float32Array;
  shape: [number, number, number];
  spacingMm: [number, number, number];
  channels: number;
}

export type Shape3 = [number, number, number];

export function voxelCount(shape: readonly number[]): number {
  return shape[0] * shape[1] * shape[2];
}

/** Throws unless `data.length` matches shape x channels; every public function calls this first. */
export function assertVolume(volume: Volume, what = 'volume'): void {
  const { shape, channels, data } = volume;
  if (shape.length !== 3 || shape.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new ImagingArgumentError(`${what}: shape ${shape.join('x')} must be three positive integers`);
  }
  if (!Number.isInteger(channels) || channels < 1) {
    throw new ImagingArgumentError(`${what}: channels ${channels} must be a positive integer`);
  }
  if (data.length !== voxelCount(shape) * channels) {
    throw new ImagingArgumentError(
      `${what}: ${data.length} values for shape ${shape.join('x')} x ${channels} channel(s)`,
    );
  }
}

/** Throws unless a label map has one value per voxel of `shape`. */
export function assertLabel(label: ArrayLike<number>, shape: readonly number[], what = 'label'): void {
  if (label.length !== voxelCount(shape)) {
    throw new ImagingArgumentError(`${what}: ${label.length} values for shape ${shape.join('x')}`);
  }
}
