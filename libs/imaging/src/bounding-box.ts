import { ImagingArgumentError } from './imaging-errors';
import { assertLabel, assertVolume, voxelCount, type Shape3, type Volume } from './volume';

/** A box of voxels: `start` [x, y, z] (inclusive) and `shape` [nx, ny, nz], inside some volume's grid. */
export interface BoundingBox {
  start: Shape3;
  shape: Shape3;
}

export interface ForegroundBoxOptions {
  /**
   * A voxel is body when any channel exceeds this value. Default: any channel non-zero, nnU-Net's
   * create_nonzero_mask (skull-stripped MRI and most MSD tasks have exact zeros outside the body). For CT pass a
   * value above air, e.g. -500 HU.
   */
  threshold?: number;
  /** Voxels added on every side, clipped to the volume. Default 0. */
  marginVoxels?: number;
}

/**
 * The smallest box holding every body voxel (see ForegroundBoxOptions), grown by the margin. A volume with no
 * body voxel gives the whole volume: cropping must never lose a case, only shrink it.
 */
export function foregroundBoundingBox(volume: Volume, options: ForegroundBoxOptions = {}): BoundingBox {
  assertVolume(volume);
  const margin = options.marginVoxels ?? 0;
  if (!Number.isInteger(margin) || margin < 0)
    throw new ImagingArgumentError(`marginVoxels ${margin} must be a non-negative integer`);
  const threshold = options.threshold;
  const [nx, ny, nz] = volume.shape;
  const c = volume.channels;
  const lo = [nx, ny, nz];
  const hi = [-1, -1, -1];
  const { data } = volume;
  let i = 0;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        let body = false;
        for (let ch = 0; ch < c && !body; ch++) {
          const v = data[i * c + ch];
          body = threshold === undefined ? v !== 0 : v > threshold;
        }
        if (!body) continue;
        if (x < lo[0]) lo[0] = x;
        if (x > hi[0]) hi[0] = x;
        if (y < lo[1]) lo[1] = y;
        if (y > hi[1]) hi[1] = y;
        if (z < lo[2]) lo[2] = z;
        if (z > hi[2]) hi[2] = z;
      }
  if (hi[0] < 0) return { start: [0, 0, 0], shape: [nx, ny, nz] };
  const start = [0, 1, 2].map((a) => Math.max(0, lo[a] - margin)) as Shape3;
  const end = [0, 1, 2].map((a) => Math.min(volume.shape[a] - 1, hi[a] + margin));
  return { start, shape: [0, 1, 2].map((a) => end[a] - start[a] + 1) as Shape3 };
}

function checkBox(box: BoundingBox, shape: readonly number[]): void {
  for (let a = 0; a < 3; a++) {
    if (
      !Number.isInteger(box.start[a]) ||
      !Number.isInteger(box.shape[a]) ||
      box.start[a] < 0 ||
      box.shape[a] < 1 ||
      box.start[a] + box.shape[a] > shape[a]
    )
      throw new ImagingArgumentError(
        `box at ${box.start.join(',')} of ${box.shape.join('x')} does not fit in ${shape.join('x')}`,
      );
  }
}

/** The voxels of `volume` inside `box` (every channel); spacing unchanged. */
export function cropVolume(volume: Volume, box: BoundingBox): Volume {
  assertVolume(volume);
  checkBox(box, volume.shape);
  const [nx, ny] = volume.shape;
  const [bx, by, bz] = box.shape;
  const c = volume.channels;
  const data = new Float32Array(voxelCount(box.shape) * c);
  for (let z = 0; z < bz; z++)
    for (let y = 0; y < by; y++) {
      const src = (box.start[0] + nx * (box.start[1] + y + ny * (box.start[2] + z))) * c;
      data.set(volume.data.subarray(src, src + bx * c), (y + by * z) * bx * c);
    }
  return { data, shape: [...box.shape], spacingMm: [...volume.spacingMm], channels: c };
}

/** The labels inside `box` of a label map of `shape`. */
export function cropLabel(
  label: Uint8Array,
  shape: readonly [number, number, number],
  box: BoundingBox,
): Uint8Array {
  assertLabel(label, shape);
  checkBox(box, shape);
  const [nx, ny] = shape;
  const [bx, by, bz] = box.shape;
  const out = new Uint8Array(voxelCount(box.shape));
  for (let z = 0; z < bz; z++)
    for (let y = 0; y < by; y++) {
      const src = box.start[0] + nx * (box.start[1] + y + ny * (box.start[2] + z));
      out.set(label.subarray(src, src + bx), (y + by * z) * bx);
    }
  return out;
}

/**
 * The inverse of cropLabel for a prediction: a label map of `fullShape` holding `label` (of box.shape) at the
 * box and `fill` (default 0, background) elsewhere, since nothing outside the body was segmented.
 */
export function uncropLabel(
  label: Uint8Array,
  box: BoundingBox,
  fullShape: readonly [number, number, number],
  fill = 0,
): Uint8Array {
  assertLabel(label, box.shape, 'cropped label');
  checkBox(box, fullShape);
  const [nx, ny] = fullShape;
  const [bx, by, bz] = box.shape;
  const out = new Uint8Array(voxelCount(fullShape)).fill(fill);
  for (let z = 0; z < bz; z++)
    for (let y = 0; y < by; y++) {
      const dst = box.start[0] + nx * (box.start[1] + y + ny * (box.start[2] + z));
      out.set(label.subarray((y + by * z) * bx, (y + by * z + 1) * bx), dst);
    }
  return out;
}
