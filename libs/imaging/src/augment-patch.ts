import { ImagingArgumentError } from './imaging-errors';
import type { Patch } from './sample-patches';
import { createRng, type Rng } from './rng';

export interface AugmentOptions {
  /** Probability of mirroring each axis independently. Default 0.5. */
  flipProbability?: number;
  /**
   * Rotate by k * 90 degrees (k uniform in 0..3) in the x-y plane when the patch is square there. Only in-plane:
   * voxels are usually anisotropic through-plane, where a rotation would distort anatomy. Default true.
   */
  rotate90?: boolean;
  /** Multiply intensities by a factor uniform in this range. Default [0.9, 1.1]. */
  scaleRange?: [number, number];
  /** Add a shift uniform in this range (normalised units). Default [-0.1, 0.1]. */
  shiftRange?: [number, number];
  /** Add Gaussian noise with sigma uniform in [0, maxNoiseSigma] with probability noiseProbability. Defaults 0.1, 0.15. */
  maxNoiseSigma?: number;
  noiseProbability?: number;
  seed?: number;
  rng?: Rng;
}

/**
 * Random spatial + intensity augmentation of one patch (nnU-Net's default set, reduced: mirroring, 90-degree
 * rotations, multiplicative/additive intensity change, Gaussian noise). Spatial changes apply identically to image
 * and label; intensity changes only to the image. Returns a new patch; seeded.
 */
export function augmentPatch(patch: Patch, options: AugmentOptions = {}): Patch {
  const rng = options.rng ?? createRng(options.seed ?? 0);
  const [nx, ny, nz] = patch.shape;
  const voxels = nx * ny * nz;
  if (patch.label.length !== voxels || patch.image.length % voxels !== 0) {
    throw new ImagingArgumentError(
      `augmentPatch: image ${patch.image.length} / label ${patch.label.length} values for shape ${patch.shape.join('x')}`,
    );
  }
  const c = patch.image.length / voxels;
  const pFlip = options.flipProbability ?? 0.5;
  const flip = [rng.next() < pFlip, rng.next() < pFlip, rng.next() < pFlip];
  const k = options.rotate90 !== false && nx === ny ? rng.int(4) : 0;
  const [s0, s1] = options.scaleRange ?? [0.9, 1.1];
  const [h0, h1] = options.shiftRange ?? [-0.1, 0.1];
  const scale = rng.uniform(s0, s1);
  const shift = rng.uniform(h0, h1);
  const sigma =
    rng.next() < (options.noiseProbability ?? 0.15) ? rng.uniform(0, options.maxNoiseSigma ?? 0.1) : 0;
  const image = new Float32Array(patch.image.length);
  const label = new Uint8Array(voxels);
  for (let z = 0; z < nz; z++) {
    const fz = flip[2] ? nz - 1 - z : z;
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const fx = flip[0] ? nx - 1 - x : x;
        const fy = flip[1] ? ny - 1 - y : y;
        // Output (fx, fy) takes the source voxel rotated by k quarter turns (square plane: n = nx = ny).
        const [sx, sy] =
          k === 0
            ? [fx, fy]
            : k === 1
              ? [fy, nx - 1 - fx]
              : k === 2
                ? [nx - 1 - fx, ny - 1 - fy]
                : [ny - 1 - fy, fx];
        const src = sx + nx * (sy + ny * fz);
        const dst = x + nx * (y + ny * z);
        label[dst] = patch.label[src];
        for (let ch = 0; ch < c; ch++) {
          const noise = sigma > 0 ? sigma * rng.normal() : 0;
          image[dst * c + ch] = patch.image[src * c + ch] * scale + shift + noise;
        }
      }
    }
  }
  return { image, label, shape: [nx, ny, nz] };
}
