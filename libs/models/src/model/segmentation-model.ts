import * as tfl from '@tensorflow/tfjs-layers';
import { ModelConfig, parseOrThrow } from '@fedseg/protocol';
import { buildTinyConvNet } from '../architectures/tiny-convnet';
import { buildUNetFamily } from '../architectures/unet-family';
import '../register';
import { initializeWeights } from '../weights/init-weights';

/** A built network plus what the rest of the library needs to know about it. */
export interface SegmentationModel {
  readonly config: ModelConfig;
  /** The tfjs-layers graph; logits out, NDHWC = [batch, z, y, x, channels]. */
  readonly network: tfl.LayersModel;
  /** Every spatial dimension fed to the network must be a multiple of this (2^(depth-1) for U-Nets). */
  readonly spatialDivisor: number;
  /** Names (manifest names) of normalization parameters and statistics: what FedBN keeps local. */
  readonly normalizationWeights: ReadonlySet<string>;
  dispose(): void;
}

const NORMALIZATION_CLASSES = new Set([
  'FedsegInstanceNormalization3D',
  'FedsegGroupNormalization3D',
  'FedsegBatchNormalization3D',
]);

function buildNetwork(config: ModelConfig): tfl.LayersModel {
  switch (config.architecture) {
    case 'unet3d':
      return buildUNetFamily(config, { name: 'unet3d', block: 'double-conv', attention: false });
    case 'attention-unet3d':
      return buildUNetFamily(config, { name: 'attention-unet3d', block: 'double-conv', attention: true });
    case 'res-unet3d':
      return buildUNetFamily(config, { name: 'res-unet3d', block: 'residual', attention: false });
    case 'tiny-convnet':
      return buildTinyConvNet(config);
  }
}

/** Wraps an existing network (built here or loaded from an export) as a SegmentationModel. */
export function wrapNetwork(config: ModelConfig, network: tfl.LayersModel): SegmentationModel {
  const normalizationWeights = new Set<string>();
  for (const layer of network.layers) {
    if (NORMALIZATION_CLASSES.has(layer.getClassName()))
      for (const w of layer.weights) normalizationWeights.add(w.originalName);
  }
  return {
    config,
    network,
    spatialDivisor: config.architecture === 'tiny-convnet' ? 1 : 2 ** (config.depth - 1),
    normalizationWeights,
    dispose: () => network.dispose(),
  };
}

/**
 * Builds the network a ModelConfig describes, with initial weights drawn from `seed` only (same seed, same
 * weights, on every backend). The config is parsed first, so defaults apply and bad fields are named.
 */
export function createSegmentationModel(config: ModelConfig, seed: number): SegmentationModel {
  const parsed = parseOrThrow(ModelConfig, config, 'model config');
  const model = wrapNetwork(parsed, buildNetwork(parsed));
  initializeWeights(model.network, seed);
  return model;
}
