import { ImagingArgumentError } from './imaging-errors';
import { assertLabel, assertVolume, type Shape3, type Volume } from './volume';

/*
 * Grid convention (all resampling here): output voxel i along an axis sits at i * outMm from the first voxel
 * centre, which is shared by both grids, so it reads the source at continuous index i * outMm / inMm. The NIfTI
 * origin is unchanged and only the affine's column lengths change. Beyond the last source voxel centre the edge
 * is replicated rather than invented (scipy.ndimage.map_coordinates(order=1, mode='nearest') samples the same
 * points; resample.spec.ts holds numbers it produced). As in nnU-Net, there is no anti-aliasing filter before
 * downsampling: target spacings are within a factor of about 2 of the native ones.
 */

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

interface AxisMap {
  lo: Int32Array;
  hi: Int32Array;
  w: Float64Array;
  nearest: Int32Array;
}

/** Source index pair, weight and nearest index for each output index along one axis. */
function axisMap(nOut: number, nIn: number, inMm: number, outMm: number): AxisMap {
  const lo = new Int32Array(nOut);
  const hi = new Int32Array(nOut);
  const w = new Float64Array(nOut);
  const nearest = new Int32Array(nOut);
  for (let i = 0; i < nOut; i++) {
    const s = Math.min(Math.max((i * outMm) / inMm, 0), nIn - 1);
    lo[i] = Math.floor(s);
    hi[i] = Math.min(lo[i] + 1, nIn - 1);
    w[i] = s - lo[i];
    // Ties go up (Math.round): a 2x downsampling keeps the even voxels; documented, tested.
    nearest[i] = Math.min(Math.round(s), nIn - 1);
  }
  return { lo, hi, w, nearest };
}

function checkGrid(shape: readonly number[], spacingMm: readonly number[], what: string): void {
  if (spacingMm.length !== 3 || spacingMm.some((s) => !(s > 0) || !Number.isFinite(s)))
    throw new ImagingArgumentError(`${what} spacing ${spacingMm.join('x')} must be three positive numbers`);
  if (shape.length !== 3 || shape.some((n) => !Number.isInteger(n) || n < 1))
    throw new ImagingArgumentError(`${what} shape ${shape.join('x')} must be three positive integers`);
}

/**
 * Trilinear resampling of every channel onto an explicit grid (`targetShape` voxels at `targetSpacingMm`). This
 * is the general form: resampleVolume picks the shape from the spacing, and resampling a prediction back to a
 * case's native grid passes the native shape and spacing (probabilities as channels, then argmax: nnU-Net's
 * export path). Trilinear interpolation reproduces any function linear in x, y, z exactly inside the grid.
 */
export function resampleVolumeToGrid(
  volume: Volume,
  targetShape: readonly [number, number, number],
  targetSpacingMm: readonly [number, number, number],
): Volume {
  assertVolume(volume);
  checkGrid(targetShape, targetSpacingMm, 'target');
  const out: Shape3 = [targetShape[0], targetShape[1], targetShape[2]];
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
      let o = out[0] * (y + out[1] * z) * c;
      for (let x = 0; x < out[0]; x++) {
        const wx = mx.w[x];
        const a = (mx.lo[x] + y0 + z0) * c;
        const b = (mx.hi[x] + y0 + z0) * c;
        const d = (mx.lo[x] + y1 + z0) * c;
        const e = (mx.hi[x] + y1 + z0) * c;
        const f = (mx.lo[x] + y0 + z1) * c;
        const g = (mx.hi[x] + y0 + z1) * c;
        const h = (mx.lo[x] + y1 + z1) * c;
        const k = (mx.hi[x] + y1 + z1) * c;
        for (let ch = 0; ch < c; ch++, o++) {
          const c00 = src[a + ch] * (1 - wx) + src[b + ch] * wx;
          const c10 = src[d + ch] * (1 - wx) + src[e + ch] * wx;
          const c01 = src[f + ch] * (1 - wx) + src[g + ch] * wx;
          const c11 = src[h + ch] * (1 - wx) + src[k + ch] * wx;
          data[o] = (c00 * (1 - wy) + c10 * wy) * (1 - wz) + (c01 * (1 - wy) + c11 * wy) * wz;
        }
      }
    }
  }
  return { data, shape: out, spacingMm: [...targetSpacingMm], channels: c };
}

/** Trilinear resampling of an image to `targetSpacingMm`, shape from resampledShape (origin unchanged). */
export function resampleVolume(volume: Volume, targetSpacingMm: readonly [number, number, number]): Volume {
  assertVolume(volume);
  checkGrid([1, 1, 1], targetSpacingMm, 'target');
  return resampleVolumeToGrid(
    volume,
    resampledShape(volume.shape, volume.spacingMm, targetSpacingMm),
    targetSpacingMm,
  );
}

/**
 * Nearest-neighbour resampling of a label map onto an explicit grid (class indices must not be blended); same
 * grid convention as resampleVolumeToGrid. Used to bring a label predicted at the plan's spacing back to the
 * case's native grid, where Dice, HD95 and ASSD are measured.
 */
export function resampleLabelToGrid(
  label: Uint8Array,
  shape: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  targetShape: readonly [number, number, number],
  targetSpacingMm: readonly [number, number, number],
): Uint8Array {
  assertLabel(label, shape);
  checkGrid(shape, spacingMm, 'source');
  checkGrid(targetShape, targetSpacingMm, 'target');
  const [ox, oy, oz] = targetShape;
  const mx = axisMap(ox, shape[0], spacingMm[0], targetSpacingMm[0]).nearest;
  const my = axisMap(oy, shape[1], spacingMm[1], targetSpacingMm[1]).nearest;
  const mz = axisMap(oz, shape[2], spacingMm[2], targetSpacingMm[2]).nearest;
  const [nx, ny] = shape;
  const result = new Uint8Array(ox * oy * oz);
  let o = 0;
  for (let z = 0; z < oz; z++)
    for (let y = 0; y < oy; y++) {
      const row = nx * (my[y] + ny * mz[z]);
      for (let x = 0; x < ox; x++, o++) result[o] = label[row + mx[x]];
    }
  return result;
}

/** Nearest-neighbour resampling of a label map to `targetSpacingMm`, same grid as resampleVolume. */
export function resampleLabel(
  label: Uint8Array,
  shape: readonly [number, number, number],
  spacingMm: readonly [number, number, number],
  targetSpacingMm: readonly [number, number, number],
): { label: Uint8Array; shape: Shape3 } {
  checkGrid([1, 1, 1], targetSpacingMm, 'target');
  const out = resampledShape(shape, spacingMm, targetSpacingMm);
  return { label: resampleLabelToGrid(label, shape, spacingMm, out, targetSpacingMm), shape: out };
}
