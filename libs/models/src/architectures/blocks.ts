import * as tfl from '@tensorflow/tfjs-layers';
import type { ModelConfig } from '@fedseg/protocol';
import { BatchNormalization3D } from '../layers/batch-normalization';
import { GroupNormalization3D } from '../layers/group-normalization';
import { InstanceNormalization3D } from '../layers/instance-normalization';
import { assertGroupsDivide } from '../plan/model-plan';

/** Building blocks shared by the U-Net family. Layer names are explicit so weight names are stable. */
type Sym = tfl.SymbolicTensor;

export function applyLayer(layer: { apply(x: Sym | Sym[]): unknown }, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** The normalization layer the config asks for, or undefined for 'none'. */
export function normalization(
  config: ModelConfig,
  channels: number,
  name: string,
): tfl.layers.Layer | undefined {
  switch (config.normalization) {
    case 'instance':
      return new InstanceNormalization3D({ name });
    case 'group':
      assertGroupsDivide(config, channels, name);
      return new GroupNormalization3D({ name, groups: config.groupNormGroups });
    case 'batch':
      return new BatchNormalization3D({ name });
    case 'none':
      return undefined;
  }
}

export function conv3x3(filters: number, name: string): tfl.layers.Layer {
  return tfl.layers.conv3d({
    filters,
    kernelSize: 3,
    padding: 'same',
    useBias: true,
    kernelInitializer: 'zeros',
    name,
  });
}

/** conv 3x3x3 -> norm -> ReLU. */
export function convNormRelu(x: Sym, filters: number, name: string, config: ModelConfig): Sym {
  let y = applyLayer(conv3x3(filters, `${name}_conv`), x);
  const norm = normalization(config, filters, `${name}_norm`);
  if (norm) y = applyLayer(norm, y);
  return applyLayer(tfl.layers.reLU({ name: `${name}_relu` }), y);
}

/** Two conv-norm-ReLU units: the level block of 3D U-Net (Cicek et al., 2016). */
export function doubleConvBlock(x: Sym, filters: number, name: string, config: ModelConfig): Sym {
  return convNormRelu(convNormRelu(x, filters, `${name}_a`, config), filters, `${name}_b`, config);
}

/**
 * Residual block (He et al., 2016, as used by Res-U-Net): conv-norm-ReLU, conv-norm, plus a shortcut
 * (a 1x1x1 conv + norm when the channel count changes, identity otherwise), then ReLU.
 */
export function residualBlock(x: Sym, filters: number, name: string, config: ModelConfig): Sym {
  const inChannels = x.shape[x.shape.length - 1];
  let y = convNormRelu(x, filters, `${name}_a`, config);
  y = applyLayer(conv3x3(filters, `${name}_b_conv`), y);
  const norm = normalization(config, filters, `${name}_b_norm`);
  if (norm) y = applyLayer(norm, y);
  let shortcut = x;
  if (inChannels !== filters) {
    shortcut = applyLayer(
      tfl.layers.conv3d({
        filters,
        kernelSize: 1,
        useBias: true,
        kernelInitializer: 'zeros',
        name: `${name}_skip_conv`,
      }),
      x,
    );
    const skipNorm = normalization(config, filters, `${name}_skip_norm`);
    if (skipNorm) shortcut = applyLayer(skipNorm, shortcut);
  }
  const sum = applyLayer(tfl.layers.add({ name: `${name}_add` }), [y, shortcut]);
  return applyLayer(tfl.layers.reLU({ name: `${name}_relu` }), sum);
}
