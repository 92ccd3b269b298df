import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { seededRandom } from '../util/seeded-random';
import { fillInitialValues } from './initial-values';

/**
 * Overwrites every weight from a seeded PRNG instead of tfjs initializers, whose random streams are not
 * seedable per layer and differ by backend. Layers in the network's order, each layer's weights in its own
 * order; the values per weight are fillInitialValues' (shared with the tfjs-free plan/model-plan.ts).
 */
export function initializeWeights(network: tfl.LayersModel, seed: number): void {
  const rng = seededRandom(seed);
  for (const layer of network.layers) {
    const transposed = layer.getClassName() === 'Conv3DTranspose';
    for (const weight of layer.weights) {
      const shape = weight.shape as number[];
      const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
      fillInitialValues(weight.originalName, shape, transposed, rng, values);
      const value = tf.tensor(values, shape);
      weight.write(value);
      value.dispose();
    }
  }
}
