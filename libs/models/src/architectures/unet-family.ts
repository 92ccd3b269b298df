import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelConfig } from '@fedseg/protocol';
import { AttentionGate3D } from '../layers/attention-gate';
import { applyLayer, doubleConvBlock, residualBlock } from './blocks';

/** What distinguishes the three U-Nets: the level block and whether skips pass an attention gate. */
export interface UNetVariant {
  name: string;
  block: 'double-conv' | 'residual';
  attention: boolean;
}

/**
 * Encoder-decoder of 3D U-Net (Cicek et al., 2016) with `depth` levels counting the bottleneck; level l has
 * baseFilters * 2^l channels. Down: 2x2x2 max-pool; up: 2x2x2 stride-2 transposed conv to the level's
 * channels, concatenated with the (optionally gated) skip; head: 1x1x1 conv to numClasses logits.
 * Spatial dims are left open (null) so one network runs on patches and on whole volumes; each must be a
 * multiple of 2^(depth-1).
 */
export function buildUNetFamily(config: ModelConfig, variant: UNetVariant): tfl.LayersModel {
  const block = variant.block === 'residual' ? residualBlock : doubleConvBlock;
  const filtersAt = (level: number): number => config.baseFilters * 2 ** level;
  const input = tfl.input({ shape: [null, null, null, config.inChannels], name: 'image' });
  const skips: tfl.SymbolicTensor[] = [];
  let x = input;
  for (let level = 0; level < config.depth; level++) {
    x = block(x, filtersAt(level), `enc${level}`, config);
    if (level < config.depth - 1) {
      skips.push(x);
      x = applyLayer(tfl.layers.maxPooling3d({ poolSize: 2, strides: 2, name: `enc${level}_pool` }), x);
    }
  }
  for (let level = config.depth - 2; level >= 0; level--) {
    const filters = filtersAt(level);
    const up = applyLayer(
      tfl.layers.conv3dTranspose({
        filters,
        kernelSize: 2,
        strides: 2,
        padding: 'same',
        useBias: true,
        kernelInitializer: 'zeros',
        name: `dec${level}_up`,
      }),
      x,
    );
    let skip = skips[level]!;
    if (variant.attention) {
      skip = applyLayer(
        new AttentionGate3D({
          interChannels: Math.max(1, Math.floor(filters / 2)),
          name: `dec${level}_gate`,
        }),
        [skip, up],
      );
    }
    x = applyLayer(tfl.layers.concatenate({ axis: -1, name: `dec${level}_concat` }), [up, skip]);
    x = block(x, filters, `dec${level}`, config);
  }
  const logits = applyLayer(
    tfl.layers.conv3d({
      filters: config.numClasses,
      kernelSize: 1,
      useBias: true,
      kernelInitializer: 'zeros',
      name: 'head',
    }),
    x,
  );
  return tfl.model({ inputs: input, outputs: logits, name: variant.name });
}
