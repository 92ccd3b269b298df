import * as tf from '@tensorflow/tfjs-core';
import type { Vec3 } from '../data/patch-batch';
import { SampleShapeError } from '../errors';
import type { SegmentationModel } from '../model/segmentation-model';
import { gaussianImportance } from './gaussian-importance';

/** Largest default window edge: bounds activation memory for big volumes (96^3 x 8 filters ~ 28 MB a map). */
export const DEFAULT_MAX_WINDOW = 96;

/**
 * Voxels per forward pass when batchSize is not given: 4 windows of 32^3, 1 of 64^3. Activation memory scales
 * with this, not with the volume; larger batches gained nothing on the portable path (bench/sliding-window).
 */
export const DEFAULT_BATCH_VOXELS = 4 * 32 ** 3;

/** Where sliding-window inference stands, after each batch of windows. */
export interface SlidingWindowProgress {
  /** Windows predicted so far. */
  done: number;
  /** Windows in the whole volume. */
  total: number;
}

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
  /** Fraction of a window shared with its neighbour along each axis, in [0, 0.95]. Default 0.5 (nnU-Net). */
  overlap?: number;
  /**
   * Windows per forward pass. Default: as many as fit DEFAULT_BATCH_VOXELS, at least 1. Peak memory is the
   * volume-sized buffers (input, K + 1 float32 accumulators per voxel, output) plus one batch's activations.
   */
  batchSize?: number;
  /** Called after every batch (and once with done = total), e.g. for the agent's progress lines. */
  onProgress?: (progress: SlidingWindowProgress) => void;
}

/**
 * Window starts along one axis, nnU-Net's compute_steps_for_sliding_window: the fewest windows whose stride is
 * at most window * (1 - overlap), spread evenly so the first is flush with the start and the last with the end.
 */
export function windowStarts(extent: number, window: number, overlap: number): number[] {
  if (extent <= window) return [0];
  const target = Math.max(1, window * (1 - overlap));
  const steps = Math.ceil((extent - window) / target) + 1;
  const stride = (extent - window) / (steps - 1);
  return Array.from({ length: steps }, (_, i) => Math.round(i * stride));
}

function resolveWindow(model: SegmentationModel, shape: Vec3, options: SlidingWindowOptions): Vec3 {
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
  return window;
}

/**
 * Softmax probabilities for a whole volume, [nz, ny, nx, K] (x fastest, classes last), by sliding-window
 * inference as nnU-Net and MONAI do it: windows at evenly spread starts (windowStarts), predicted `batchSize`
 * at a time, each weighted by a Gaussian importance map (sigma = 1/8 of the window, gaussianImportance), and
 * the weighted sum divided by the summed weights. Volumes (or axes) smaller than the window are zero-padded to
 * it, so any shape works; padding is dropped from the output. Yields to the event loop after each batch so a
 * daemon's socket keeps its heartbeat while a large volume is scored.
 */
export async function predictProbabilities(
  model: SegmentationModel,
  image: Float32Array,
  shape: Vec3,
  channels: number,
  options: SlidingWindowOptions = {},
): Promise<Float32Array> {
  const window = resolveWindow(model, shape, options);
  const overlap = Math.min(Math.max(options.overlap ?? 0.5, 0), 0.95);
  const [nx, ny, nz] = shape;
  const [wx, wy, wz] = window;
  const windowVoxels = wx * wy * wz;
  const classes = model.config.numClasses;
  const importance = gaussianImportance(window);
  const starts: Vec3[] = [];
  for (const oz of windowStarts(nz, wz, overlap))
    for (const oy of windowStarts(ny, wy, overlap))
      for (const ox of windowStarts(nx, wx, overlap)) starts.push([ox, oy, oz]);
  const batchSize = Math.max(
    1,
    Math.min(starts.length, Math.floor(options.batchSize ?? DEFAULT_BATCH_VOXELS / windowVoxels) || 1),
  );
  const sum = new Float32Array(nx * ny * nz * classes);
  const weight = new Float32Array(nx * ny * nz);
  const batch = new Float32Array(batchSize * windowVoxels * channels);
  for (let first = 0; first < starts.length; first += batchSize) {
    const group = starts.slice(first, first + batchSize);
    batch.fill(0);
    group.forEach(([ox, oy, oz], b) => {
      const cx = Math.min(wx, nx - ox);
      const base = b * windowVoxels * channels;
      for (let z = 0; z < Math.min(wz, nz - oz); z++)
        for (let y = 0; y < Math.min(wy, ny - oy); y++) {
          const src = ((z + oz) * ny + (y + oy)) * nx + ox;
          batch.set(
            image.subarray(src * channels, (src + cx) * channels),
            base + (z * wy + y) * wx * channels,
          );
        }
    });
    const probs = tf.tidy(() => {
      // The last batch may be short: predict only the windows it holds.
      const input = tf.tensor5d(batch.subarray(0, group.length * windowVoxels * channels), [
        group.length,
        wz,
        wy,
        wx,
        channels,
      ]);
      return tf.softmax(model.network.predict(input) as tf.Tensor, -1);
    });
    // Async read: on webgpu dataSync would stall the event loop (and the agent's socket) per batch.
    const p = (await probs.data()) as Float32Array;
    probs.dispose();
    group.forEach(([ox, oy, oz], b) => {
      const cx = Math.min(wx, nx - ox);
      for (let z = 0; z < Math.min(wz, nz - oz); z++)
        for (let y = 0; y < Math.min(wy, ny - oy); y++) {
          let w = (z * wy + y) * wx;
          let v = ((z + oz) * ny + (y + oy)) * nx + ox;
          let pw = (b * windowVoxels + w) * classes;
          for (let x = 0; x < cx; x++, w++, v++) {
            const g = importance[w]!;
            weight[v] += g;
            for (let k = 0; k < classes; k++, pw++) sum[v * classes + k] += g * p[pw]!;
          }
        }
    });
    options.onProgress?.({ done: Math.min(first + batchSize, starts.length), total: starts.length });
    // Lets I/O (a socket's ping/pong) through between batches; await on data() alone resolves as a microtask.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  for (let v = 0; v < weight.length; v++) {
    const inv = 1 / weight[v]!;
    for (let k = 0; k < classes; k++) sum[v * classes + k] *= inv;
  }
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
