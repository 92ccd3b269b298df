import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { seededRandom } from '../util/seeded-random';

/** Weight names (last path part) that hold scale-like values initialized to one. */
const ONES = new Set(['gamma', 'moving_variance']);
/** Weight names that are convolution kernels (He-initialized); everything else starts at zero. */
const KERNELS = new Set(['kernel', 'wx', 'wg', 'psi']);

/**
 * Overwrites every weight from a seeded PRNG instead of tfjs initializers, whose random streams are not
 * seedable per layer and differ by backend. Kernels: He uniform, U(+-sqrt(6 / fan_in)) (He et al., 2015),
 * right for ReLU nets; fan_in = kernel volume x input channels (the last axis is the input for transposed
 * convs, whose kernels are [d, h, w, out, in]). Biases and shifts 0, scales 1.
 */
export function initializeWeights(network: tfl.LayersModel, seed: number): void {
  const rng = seededRandom(seed);
  for (const layer of network.layers) {
    const transposed = layer.getClassName() === 'Conv3DTranspose';
    for (const weight of layer.weights) {
      const shape = weight.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      const values = new Float32Array(size);
      const base = weight.originalName.slice(weight.originalName.lastIndexOf('/') + 1);
      if (ONES.has(base)) values.fill(1);
      else if (KERNELS.has(base) && shape.length === 5) {
        const inputs = transposed ? shape[4]! : shape[3]!;
        const fanIn = shape[0]! * shape[1]! * shape[2]! * inputs;
        const limit = Math.sqrt(6 / fanIn);
        for (let i = 0; i < size; i++) values[i] = (2 * rng.next() - 1) * limit;
      }
      const value = tf.tensor(values, shape);
      weight.write(value);
      value.dispose();
    }
  }
}
