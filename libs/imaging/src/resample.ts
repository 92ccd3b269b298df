import { ImagingArgumentError } from './imaging-errors';
import { assertLabel, assertVolume, type Shape3, type Volume } from './volume';

/**
 * Output shape for resampling `shape` from `fromMm` to `toMm` spacing: round(n * from / to), at least 1, so the
 * field of view is kept to within half a voxel (nnU-Net's compute_new_shape).
 */
export function resampledShape(
  shape: readonly number[],
  fromMm: readonly number[],
  toMm: readonly number[],
): Shape3 {
  return [0, 1, 2].map((a) => Math.max(1, Math.round((shape[a] * fromMm[a]) / toMm[a]))) as Shape3;
}

/** Source coordinate of each output index along one axis: the first voxel centre stays put (origin unchanged). */
function axisMap(
  nOut: number,
  nIn: number,
  fromMm: number,
  toMm: number,
): { lo: Int32Array; hi: Int32Array; w: Float64Array; nearest: Int32Array } {
  const lo = new Int32Array(nOut);
  const hi = new Int32Array(nOut);
  const w = new Float64Array(nOut);
  const nearest = new Int32Array(nOut);
  for (let i = 0; i < nOut; i++) {
    // Clamp to the last voxel centre: outside the sampled grid we replicate the edge rather than invent values.
    const s = Math.min(Math.max((i * toMm) / fromMm, 0), nIn - 1);
    lo[i] = Math.floor(s);
    hi[i] = Math.min(lo[i] + 1, nIn - 1);
    w[i] = s - lo[i];
    nearest[i] = Math.min(Math.round(s), nIn - 1);
  }
  return { lo, hi, w, nearest };
}

function checkSpacing(target: readonly number[]): void {
  if (target.length !== 3 || target.some((s) => !(s > 0)))
    throw new ImagingArgumentError(`target spacing ${target.join('x')} must be three positive numbers`);
}

/**
 * Trilinear resampling of an image to `targetSpacingMm` (every channel). Output voxel i sits at i * target mm
 * from the first voxel centre, so the affine's origin is unchanged and only its column lengths change.
 * Trilinear interpolation reproduces any function linear in x, y, z exactly inside the grid.
 */
export function resampleVolume(volume: Volume, targetSpacingMm: readonly [number, number, number]): Volume {
  assertVolume(volume);
  checkSpacing(targetSpacingMm);
  const out = resampledShape(volume.shape, volume.spacingMm, targetSpacingMm);
  const [mx, my, mz] = [0, 1, 2].map((a) =>
    axisMap(out[a], volume.shape[a], volume.spacingMm[a], targetSpacingMm[a]),
  );
  const [nx, ny] = volume.shape;
  const c = volume.channels;
  const src = volume.data;
  const data = new Float32Array(out[0] * out[1] * out[2] * c);
  for (let z = 0; z < out[2]; z++) {
    const z0 = mz.lo[z] * nx * ny;
    const z1 = mz.hi[z] * nx * ny;
    const wz = mz.w[z];
    for (let y = 0; y < out[1]; y++) {
      const y0 = my.lo[y] * nx;
      const y1 = my.hi[y] * nx;
      const wy = my.w[y];
      for (let x = 0; x < out[0]; x++) {
        const x0 = mx.lo[x];
        const x1 = mx.hi[x];
        const wx = mx.w[x];
        const o = (x + out[0] * (y + out[1] * z)) * c;
        for (let ch = 0; ch < c; ch++) {
          const v = (i: number): number => src[i * c + ch];
          const c00 = v(x0 + y0 + z0) * (1 - wx) + v(x1 + y0 + z0) * wx;
          const c10 = v(x0 + y1 + z0) * (1 - wx) + v(x1 + y1 + z0) * wx;
          const c01 = v(x0 + y0 + z1) * (1 - wx) + v(x1 + y0 + z1) * wx;
          const c11 = v(x0 + y1 + z1) * (1 - wx) + v(x1 + y1 + z1) * wx;
          data[o + ch] = (c00 * (1 - wy) + c10 * wy) * (1 - wz) + (c01 * (1 - wy) + c11 * wy) * wz;
        }
      }
    }
  }
  return { data, shape: out, spacingMm: [...targetSpacingMm], channels: c };
}

/**
 * Nearest-neighbour resampling of a label map (class indices must not be blended), same grid as resampleVolume.
 */
export function resampleLabel(
  label: Uint8Array,
  shape: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  targetSpacingMm: readonly [number, number, number],
): { label: Uint8Array; shape: Shape3 } {
  assertLabel(label, shape);
  checkSpacing(targetSpacingMm);
  const out = resampledShape(shape, spacingMm, targetSpacingMm);
  const [mx, my, mz] = [0, 1, 2].map((a) => axisMap(out[a], shape[a], spacingMm[a], targetSpacingMm[a]));
  const [nx, ny] = shape;
  const result = new Uint8Array(out[0] * out[1] * out[2]);
  for (let z = 0; z < out[2]; z++)
    for (let y = 0; y < out[1]; y++)
      for (let x = 0; x < out[0]; x++)
        result[x + out[0] * (y + out[1] * z)] =
          label[mx.nearest[x] + nx * (my.nearest[y] + ny * mz.nearest[z])];
  return { label: result, shape: out };
}
