import * as tf from '@tensorflow/tfjs-core';
import { SampleShapeError } from '../errors';
import type { SeededRandom } from '../util/seeded-random';
import type { TrainingSample } from './training-sample';

export type Vec3 = [number, number, number];

/**
 * The patch size actually trained on for a batch: per axis the configured patch, no larger than the
 * smallest sample in the batch, rounded down to a multiple of the network's spatial divisor. A sample
 * smaller than the divisor along some axis cannot pass the network and is refused (SampleShapeError).
 * Rounding down (cropping) rather than padding keeps every trained voxel real.
 */
export function effectivePatchSize(
  samples: readonly TrainingSample[],
  patchSize: Vec3,
  divisor: number,
): Vec3 {
  return [0, 1, 2].map((axis) => {
    const smallest = Math.min(patchSize[axis]!, ...samples.map((s) => s.shape[axis]!));
    const size = Math.floor(smallest / divisor) * divisor;
    if (size < divisor) {
      throw new SampleShapeError(
        `A sample is ${Math.min(...samples.map((s) => s.shape[axis]!))} voxels along axis ${'xyz'[axis]} (patch ${patchSize[axis]}); ` +
          `this network needs at least ${divisor} (a multiple of 2^(depth-1)). Resample or pad the volume, or lower the depth.`,
        { axis },
      );
    }
    return size;
  }) as Vec3;
}

/** Random patch origin, uniform over every position where the patch fits inside the volume. */
export function randomOrigin(shape: Vec3, patch: Vec3, rng: SeededRandom): Vec3 {
  return [
    rng.int(shape[0] - patch[0] + 1),
    rng.int(shape[1] - patch[1] + 1),
    rng.int(shape[2] - patch[2] + 1),
  ];
}

/**
 * Copies `patch` voxels at `origin` from each sample into one NDHWC batch: images [b, pz, py, px, c] and
 * one-hot labels [b, pz, py, px, classes] (built here on the CPU, no tf.oneHot kernel needed).
 */
export function patchBatch(
  samples: readonly TrainingSample[],
  origins: readonly Vec3[],
  patch: Vec3,
  numClasses: number,
): { images: tf.Tensor5D; labels: tf.Tensor5D } {
  const [px, py, pz] = patch;
  const channels = samples[0]!.channels;
  const voxels = px * py * pz;
  const images = new Float32Array(samples.length * voxels * channels);
  const labels = new Float32Array(samples.length * voxels * numClasses);
  samples.forEach((s, b) => {
    const [nx, ny] = s.shape;
    const [ox, oy, oz] = origins[b]!;
    let v = b * voxels;
    for (let z = 0; z < pz; z++) {
      for (let y = 0; y < py; y++) {
        const row = ((z + oz) * ny + (y + oy)) * nx + ox;
        images.set(s.image.subarray(row * channels, (row + px) * channels), v * channels);
        for (let x = 0; x < px; x++, v++) labels[v * numClasses + s.label[row + x]!] = 1;
      }
    }
  });
  return {
    images: tf.tensor5d(images, [samples.length, pz, py, px, channels]),
    labels: tf.tensor5d(labels, [samples.length, pz, py, px, numClasses]),
  };
}
