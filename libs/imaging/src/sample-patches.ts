import { ImagingArgumentError } from './imaging-errors';
import { createRng, type Rng } from './rng';
import { assertLabel, assertVolume, type Shape3, type Volume } from './volume';

export interface Patch {
  /** Channels-last, like Volume.data. */
  image: Float32Array;
  label: Uint8Array;
  shape: Shape3;
}

export interface PatchOptions {
  patchSize: Shape3;
  count: number;
  /**
   * Fraction of patches forced to be centred on a foreground voxel (label > 0): nnU-Net's oversample_foreground_percent
   * (0.33 there). floor(count * ratio) patches are foreground-centred, plus one more with probability equal to the
   * fractional part (stochastic rounding), so even count = 1 per call gives the ratio on average. Default 0.33.
   */
  foregroundRatio?: number;
  /** A seed or a shared Rng (to continue one stream across calls). */
  seed?: number;
  rng?: Rng;
}

/**
 * Random patches of `patchSize` voxels. A patch that would leave the volume (patch larger than the volume)
 * is zero-padded, image and label alike. Foreground-centred patches are clamped inside the volume when
 * the volume is large enough, so they still contain the chosen voxel.
 */
export function samplePatches(volume: Volume, label: Uint8Array, options: PatchOptions): Patch[] {
  assertVolume(volume);
  assertLabel(label, volume.shape);
  const { patchSize, count } = options;
  if (patchSize.some((p) => !Number.isInteger(p) || p < 1))
    throw new ImagingArgumentError(`patch size ${patchSize.join('x')} must be positive integers`);
  const rng = options.rng ?? createRng(options.seed ?? 0);
  const ratio = options.foregroundRatio ?? 0.33;
  const foreground: number[] = [];
  for (let i = 0; i < label.length; i++) if (label[i] > 0) foreground.push(i);
  const expected = count * Math.min(Math.max(ratio, 0), 1);
  const nFg = foreground.length
    ? Math.floor(expected) + (rng.next() < expected - Math.floor(expected) ? 1 : 0)
    : 0;
  const [nx, ny, nz] = volume.shape;
  const patches: Patch[] = [];
  for (let k = 0; k < count; k++) {
    let start: Shape3;
    if (k < nFg) {
      const i = foreground[rng.int(foreground.length)];
      const centre = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))];
      start = [0, 1, 2].map((a) => {
        const n = volume.shape[a];
        const p = patchSize[a];
        const s = centre[a] - Math.floor(p / 2);
        return n >= p ? Math.min(Math.max(s, 0), n - p) : Math.floor((n - p) / 2);
      }) as Shape3;
    } else {
      start = [0, 1, 2].map((a) => {
        const n = volume.shape[a];
        const p = patchSize[a];
        return n >= p ? rng.int(n - p + 1) : Math.floor((n - p) / 2);
      }) as Shape3;
    }
    patches.push(extractPatch(volume, label, start, patchSize, [nx, ny, nz]));
  }
  return patches;
}

/** Copies the box starting at `start` (may be negative / past the end: zero padding). */
export function extractPatch(
  volume: Volume,
  label: Uint8Array,
  start: Shape3,
  size: Shape3,
  shape: Shape3,
): Patch {
  const [px, py, pz] = size;
  const [nx, ny, nz] = shape;
  const c = volume.channels;
  const image = new Float32Array(px * py * pz * c);
  const lab = new Uint8Array(px * py * pz);
  for (let z = 0; z < pz; z++) {
    const sz = start[2] + z;
    if (sz < 0 || sz >= nz) continue;
    for (let y = 0; y < py; y++) {
      const sy = start[1] + y;
      if (sy < 0 || sy >= ny) continue;
      for (let x = 0; x < px; x++) {
        const sx = start[0] + x;
        if (sx < 0 || sx >= nx) continue;
        const src = sx + nx * (sy + ny * sz);
        const dst = x + px * (y + py * z);
        lab[dst] = label[src];
        for (let ch = 0; ch < c; ch++) image[dst * c + ch] = volume.data[src * c + ch];
      }
    }
  }
  return { image, label: lab, shape: [px, py, pz] };
}
