import * as tf from '@tensorflow/tfjs-core';
import type { Vec3 } from '../data/patch-batch';
import { SampleShapeError } from '../errors';
import type { SegmentationModel } from '../model/segmentation-model';
import { gaussianImportance } from './gaussian-importance';

/** Largest default window edge: bounds activation memory for big volumes (96^3 x 8 filters ~ 28 MB a map). */
export const DEFAULT_MAX_WINDOW = 96;

export interface SlidingWindowOptions {
  /**
   * Window [px, py, pz]; each a multiple of the network's spatial divisor. Default: the whole volume, padded
   * to the divisor, with each axis capped at DEFAULT_MAX_WINDOW (rounded down to the divisor). Passing the
   * training patch size is the usual choice for volumes larger than the patch.
   */
  windowSize?: Vec3;
  /**
   * The patch size the network was trained on: windows of that size (nnU-Net's inference, so normalization
   * statistics cover the extent they were trained on), each axis rounded down to the spatial divisor as
   * training crops it, and no larger than the volume padded to the divisor. Ignored when windowSize is given.
   */
  patchSize?: Vec3;
  /** Fraction of a window shared with its neighbour along each axis, in [0, 1). Default 0.5 (nnU-Net). */
  overlap?: number;
}

/** Start positions along one axis: a regular stride, plus a last window flush with the far edge. */
function windowStarts(extent: number, window: number, overlap: number): number[] {
  if (extent <= window) return [0];
  const stride = Math.max(1, Math.floor(window * (1 - overlap)));
  const starts: number[] = [];
  for (let s = 0; s + window < extent; s += stride) starts.push(s);
  starts.push(extent - window);
  return starts;
}

/**
 * Softmax probabilities for a whole volume, [nz, ny, nx, K] (x fastest, classes last), by sliding-window
 * inference: windows overlap by `overlap`, each prediction is weighted by a Gaussian importance map and the
 * weighted sum is normalized by the summed weights. Volumes (or axes) smaller than the window are
 * zero-padded to it, so any shape works; padding is dropped from the output.
 */
export async function predictProbabilities(
  model: SegmentationModel,
  image: Float32Array,
  shape: Vec3,
  channels: number,
  options: SlidingWindowOptions = {},
): Promise<Float32Array> {
  const d = model.spatialDivisor;
  const roundUp = (n: number): number => Math.ceil(n / d) * d;
  const cap = Math.max(d, Math.floor(DEFAULT_MAX_WINDOW / d) * d);
  const trained = options.patchSize;
  const window = (options.windowSize ??
    (trained
      ? shape.map((n, axis) => Math.min(roundUp(n), Math.max(d, Math.floor(trained[axis]! / d) * d)))
      : shape.map((n) => Math.min(roundUp(n), cap)))) as Vec3;
  window.forEach((w, axis) => {
    if (w % d !== 0 || w <= 0) {
      throw new SampleShapeError(
        `Window ${window.join('x')}: axis ${'xyz'[axis]} must be a positive multiple of ${d} for this network.`,
      );
    }
  });
  const overlap = Math.min(Math.max(options.overlap ?? 0.5, 0), 0.95);
  const [nx, ny, nz] = shape;
  const [wx, wy, wz] = window;
  const classes = model.config.numClasses;
  const importance = gaussianImportance(window);
  const sum = new Float32Array(nx * ny * nz * classes);
  const weight = new Float32Array(nx * ny * nz);
  const patch = new Float32Array(wx * wy * wz * channels);
  for (const oz of windowStarts(nz, wz, overlap)) {
    for (const oy of windowStarts(ny, wy, overlap)) {
      for (const ox of windowStarts(nx, wx, overlap)) {
        patch.fill(0);
        const cx = Math.min(wx, nx - ox);
        for (let z = 0; z < Math.min(wz, nz - oz); z++) {
          for (let y = 0; y < Math.min(wy, ny - oy); y++) {
            const src = ((z + oz) * ny + (y + oy)) * nx + ox;
            patch.set(image.subarray(src * channels, (src + cx) * channels), (z * wy + y) * wx * channels);
          }
        }
        const probs = tf.tidy(() => {
          const logits = model.network.predict(tf.tensor5d(patch, [1, wz, wy, wx, channels])) as tf.Tensor;
          return tf.softmax(logits, -1);
        });
        // Async read: on webgpu dataSync would stall the event loop (and the agent's socket) per window.
        const p = (await probs.data()) as Float32Array;
        probs.dispose();
        for (let z = 0; z < Math.min(wz, nz - oz); z++) {
          for (let y = 0; y < Math.min(wy, ny - oy); y++) {
            for (let x = 0; x < cx; x++) {
              const w = (z * wy + y) * wx + x;
              const v = ((z + oz) * ny + (y + oy)) * nx + (x + ox);
              const g = importance[w]!;
              weight[v] += g;
              for (let k = 0; k < classes; k++) sum[v * classes + k] += g * p[w * classes + k]!;
            }
          }
        }
      }
    }
  }
  for (let v = 0; v < weight.length; v++)
    for (let k = 0; k < classes; k++) sum[v * classes + k] /= weight[v]!;
  return sum;
}

/** Label map (argmax over classes) from probabilities laid out [voxels, K]. */
export function argmaxLabels(probs: Float32Array, classes: number): Uint8Array {
  const labels = new Uint8Array(probs.length / classes);
  for (let v = 0; v < labels.length; v++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probs[v * classes + k]! > probs[v * classes + best]!) best = k;
    labels[v] = best;
  }
  return labels;
}

/** Sliding-window segmentation of one volume: class ids, x fastest, same voxel order as the image. */
export async function predictLabels(
  model: SegmentationModel,
  image: Float32Array,
  shape: Vec3,
  channels: number,
  options: SlidingWindowOptions = {},
): Promise<Uint8Array> {
  return argmaxLabels(
    await predictProbabilities(model, image, shape, channels, options),
    model.config.numClasses,
  );
}
