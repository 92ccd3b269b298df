import * as tf from '@tensorflow/tfjs-core';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import { sameManifest, type FlatWeights, type WeightSpec } from '@fedseg/protocol';
import { WeightsMismatchError } from '../errors';
import type { SegmentationModel } from '../model/segmentation-model';

export interface FlatWeightsOptions {
  /**
   * FedBN (Li et al., 2021): leave normalization parameters and running statistics out, so they stay at the
   * site. Use the same value for get and set.
   */
  excludeNormalization?: boolean;
}

/**
 * The weights in flat-vector order: the network's layers in topological order, each layer's trainable
 * weights then its statistics (tfjs-layers' `weights` order), named `layer/weight`. Deterministic for a
 * given ModelConfig, which is what makes vectors from different sites line up for aggregation.
 */
function selectedWeights(model: SegmentationModel, options: FlatWeightsOptions): LayerVariable[] {
  const all = model.network.weights;
  return options.excludeNormalization
    ? all.filter((w) => !model.normalizationWeights.has(w.originalName))
    : all;
}

export function weightManifest(model: SegmentationModel, options: FlatWeightsOptions = {}): WeightSpec[] {
  return selectedWeights(model, options).map((w) => ({
    name: w.originalName,
    shape: [...(w.shape as number[])],
  }));
}

export function getFlatWeights(model: SegmentationModel, options: FlatWeightsOptions = {}): FlatWeights {
  const weights = selectedWeights(model, options);
  const manifest = weights.map((w) => ({ name: w.originalName, shape: [...(w.shape as number[])] }));
  const total = manifest.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  const data = new Float32Array(total);
  let offset = 0;
  for (const w of weights) {
    const values = w.read().dataSync() as Float32Array;
    data.set(values, offset);
    offset += values.length;
  }
  return { manifest, data };
}

/**
 * getFlatWeights without synchronous reads: webgpu in Node cannot read synchronously at all, and on any
 * GPU an async read lets the event loop (the agent's socket) run while the device finishes.
 */
export async function readFlatWeights(
  model: SegmentationModel,
  options: FlatWeightsOptions = {},
): Promise<FlatWeights> {
  const weights = selectedWeights(model, options);
  const manifest = weights.map((w) => ({ name: w.originalName, shape: [...(w.shape as number[])] }));
  const values = await Promise.all(weights.map((w) => w.read().data() as Promise<Float32Array>));
  const data = new Float32Array(values.reduce((n, v) => n + v.length, 0));
  let offset = 0;
  for (const v of values) {
    data.set(v, offset);
    offset += v.length;
  }
  return { manifest, data };
}

/** Loads a flat vector into the model; refuses (and changes nothing) when the manifest does not match. */
export function setFlatWeights(
  model: SegmentationModel,
  weights: FlatWeights,
  options: FlatWeightsOptions = {},
): void {
  const targets = selectedWeights(model, options);
  const expected = targets.map((w) => ({ name: w.originalName, shape: [...(w.shape as number[])] }));
  if (!sameManifest(expected, weights.manifest)) {
    const firstBad = expected.findIndex((s, i) => {
      const got = weights.manifest[i];
      return !got || got.name !== s.name || got.shape.join('x') !== s.shape.join('x');
    });
    throw new WeightsMismatchError(
      `Weights do not fit this ${model.config.architecture} (depth ${model.config.depth}, baseFilters ` +
        `${model.config.baseFilters}): expected ${expected.length} tensors, got ${weights.manifest.length}` +
        (firstBad >= 0 ? `; first difference at #${firstBad} (${expected[firstBad]!.name})` : '') +
        '. Check that the study model config and the FedBN setting match the weights.',
      { expectedTensors: expected.length, gotTensors: weights.manifest.length, firstDifference: firstBad },
    );
  }
  const total = expected.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  if (weights.data.length !== total) {
    throw new WeightsMismatchError(
      `Manifest describes ${total} weights but the vector holds ${weights.data.length}.`,
    );
  }
  let offset = 0;
  for (const w of targets) {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    // slice() copies, so the tensor never aliases the caller's buffer.
    const value = tf.tensor(weights.data.slice(offset, offset + n), shape, 'float32');
    w.write(value);
    value.dispose();
    offset += n;
  }
}
