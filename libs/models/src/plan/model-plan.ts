import { ModelConfig, parseOrThrow, type FlatWeights, type WeightSpec } from '@fedseg/protocol';
import { ModelConfigError } from '../errors';
import { seededRandom } from '../util/seeded-random';
import { fillInitialValues } from '../weights/initial-values';

/**
 * The networks of architectures/ described without tfjs: every layer's name, inputs and weights, enough to
 * know the flat weight vector (names, shapes, order, which weights FedBN keeps local) and its initial values
 * for a ModelConfig and seed. The coordinator needs exactly that for round 0 and must not load tfjs for it.
 * The tfjs builders stay the source of truth: plan/model-plan.spec.ts checks this description against them,
 * bit for bit, for every architecture, depth and normalization.
 */

interface PlannedWeight {
  /** `layer/weight`, as tfjs-layers' originalName. */
  name: string;
  shape: number[];
  /** Non-trainable weights (batch norm's running statistics) come after all trainable ones. */
  trainable: boolean;
}

interface PlannedLayer {
  name: string;
  inputs: PlannedLayer[];
  /** Channels of the layer's output. */
  channels: number;
  /** In the order the layer adds them (tfjs-layers' `layer.weights`: trainable first). */
  weights: PlannedWeight[];
  transposed: boolean;
  /** A normalization layer: its weights stay at the site under FedBN. */
  normalization: boolean;
}

export interface ModelPlanOptions {
  /** FedBN: leave normalization parameters and statistics out, as getFlatWeights' option of that name. */
  excludeNormalization?: boolean;
}

function layer(
  name: string,
  inputs: PlannedLayer[],
  channels: number,
  weights: [string, number[], boolean?][] = [],
  flags: { transposed?: boolean; normalization?: boolean } = {},
): PlannedLayer {
  return {
    name,
    inputs,
    channels,
    weights: weights.map(([w, shape, trainable]) => ({
      name: `${name}/${w}`,
      shape,
      trainable: trainable ?? true,
    })),
    transposed: flags.transposed ?? false,
    normalization: flags.normalization ?? false,
  };
}

/** Refuses a group count that does not divide a layer's channels (shared with architectures/blocks.ts). */
export function assertGroupsDivide(config: ModelConfig, channels: number, name: string): void {
  if (channels % config.groupNormGroups !== 0) {
    throw new ModelConfigError(
      `groupNormGroups ${config.groupNormGroups} does not divide ${channels} channels (layer ${name}); ` +
        'choose a group count that divides baseFilters.',
      { field: 'groupNormGroups' },
    );
  }
}

/** architectures/blocks.ts and the builders, layer for layer. */
class Builder {
  constructor(private readonly config: ModelConfig) {}

  conv(x: PlannedLayer, filters: number, kernel: number, name: string): PlannedLayer {
    return layer(name, [x], filters, [
      ['kernel', [kernel, kernel, kernel, x.channels, filters]],
      ['bias', [filters]],
    ]);
  }

  normalization(x: PlannedLayer, name: string): PlannedLayer {
    const c = x.channels;
    const affine: [string, number[]][] = [
      ['gamma', [c]],
      ['beta', [c]],
    ];
    switch (this.config.normalization) {
      case 'instance':
        return layer(name, [x], c, affine, { normalization: true });
      case 'group':
        assertGroupsDivide(this.config, c, name);
        return layer(name, [x], c, affine, { normalization: true });
      case 'batch':
        return layer(
          name,
          [x],
          c,
          [...affine, ['moving_mean', [c], false], ['moving_variance', [c], false]],
          { normalization: true },
        );
      case 'none':
        return x;
    }
  }

  convNormRelu(x: PlannedLayer, filters: number, name: string): PlannedLayer {
    const y = this.normalization(this.conv(x, filters, 3, `${name}_conv`), `${name}_norm`);
    return layer(`${name}_relu`, [y], filters);
  }

  doubleConv = (x: PlannedLayer, filters: number, name: string): PlannedLayer =>
    this.convNormRelu(this.convNormRelu(x, filters, `${name}_a`), filters, `${name}_b`);

  residual = (x: PlannedLayer, filters: number, name: string): PlannedLayer => {
    let y = this.convNormRelu(x, filters, `${name}_a`);
    y = this.normalization(this.conv(y, filters, 3, `${name}_b_conv`), `${name}_b_norm`);
    let shortcut = x;
    if (x.channels !== filters)
      shortcut = this.normalization(this.conv(x, filters, 1, `${name}_skip_conv`), `${name}_skip_norm`);
    return layer(`${name}_relu`, [layer(`${name}_add`, [y, shortcut], filters)], filters);
  };

  unetFamily(block: 'double-conv' | 'residual', attention: boolean): PlannedLayer {
    const { config } = this;
    const levelBlock = block === 'residual' ? this.residual : this.doubleConv;
    const filtersAt = (level: number): number => config.baseFilters * 2 ** level;
    const skips: PlannedLayer[] = [];
    let x = layer('image', [], config.inChannels);
    for (let level = 0; level < config.depth; level++) {
      x = levelBlock(x, filtersAt(level), `enc${level}`);
      if (level < config.depth - 1) {
        skips.push(x);
        x = layer(`enc${level}_pool`, [x], x.channels);
      }
    }
    for (let level = config.depth - 2; level >= 0; level--) {
      const filters = filtersAt(level);
      const up = layer(
        `dec${level}_up`,
        [x],
        filters,
        [
          ['kernel', [2, 2, 2, filters, x.channels]],
          ['bias', [filters]],
        ],
        { transposed: true },
      );
      let skip = skips[level]!;
      if (attention) {
        const f = Math.max(1, Math.floor(filters / 2));
        skip = layer(`dec${level}_gate`, [skip, up], skip.channels, [
          ['wx', [1, 1, 1, skip.channels, f]],
          ['wg', [1, 1, 1, up.channels, f]],
          ['bias', [f]],
          ['psi', [1, 1, 1, f, 1]],
          ['psi_bias', [1]],
        ]);
      }
      x = layer(`dec${level}_concat`, [up, skip], up.channels + skip.channels);
      x = levelBlock(x, filters, `dec${level}`);
    }
    return this.conv(x, config.numClasses, 1, 'head');
  }

  tinyConvNet(): PlannedLayer {
    const input = layer('image', [], this.config.inChannels);
    return this.conv(
      this.convNormRelu(input, this.config.baseFilters, 'enc0'),
      this.config.numClasses,
      1,
      'head',
    );
  }
}

function outputLayer(config: ModelConfig): PlannedLayer {
  const builder = new Builder(config);
  switch (config.architecture) {
    case 'unet3d':
      return builder.unetFamily('double-conv', false);
    case 'attention-unet3d':
      return builder.unetFamily('double-conv', true);
    case 'res-unet3d':
      return builder.unetFamily('residual', false);
    case 'tiny-convnet':
      return builder.tinyConvNet();
  }
}

/**
 * The order of tfjs-layers' `LayersModel.layers` (engine/container.js): a depth-first walk from the output
 * numbers the layers as first reached; a layer's depth is the longest path from it to the output; layers
 * come deepest first, ties in walk order.
 */
function containerOrder(output: PlannedLayer): PlannedLayer[] {
  const walkIndex = new Map<PlannedLayer, number>();
  const finished: PlannedLayer[] = [];
  const visit = (node: PlannedLayer): void => {
    if (finished.includes(node)) return;
    if (!walkIndex.has(node)) walkIndex.set(node, walkIndex.size);
    for (const input of node.inputs) visit(input);
    finished.push(node);
  };
  visit(output);
  // Reversed post-order reaches every consumer of a layer before the layer itself.
  const depth = new Map<PlannedLayer, number>();
  for (const node of [...finished].reverse()) {
    const d = depth.get(node) ?? 0;
    depth.set(node, d);
    for (const input of node.inputs) depth.set(input, Math.max(d + 1, depth.get(input) ?? 0));
  }
  return [...walkIndex.keys()].sort(
    (a, b) => depth.get(b)! - depth.get(a)! || walkIndex.get(a)! - walkIndex.get(b)!,
  );
}

interface PlannedModel {
  /** Layers in the network's order. */
  layers: PlannedLayer[];
  /** getFlatWeights' order: every layer's trainable weights, then every layer's non-trainable ones. */
  flat: { weight: PlannedWeight; layer: PlannedLayer }[];
}

function planModel(config: ModelConfig, options: ModelPlanOptions): PlannedModel {
  const layers = containerOrder(outputLayer(parseOrThrow(ModelConfig, config, 'model config')));
  const all = (trainable: boolean) =>
    layers.flatMap((l) =>
      l.weights.filter((w) => w.trainable === trainable).map((weight) => ({ weight, layer: l })),
    );
  const flat = [...all(true), ...all(false)].filter(
    ({ layer: l }) => !(options.excludeNormalization && l.normalization),
  );
  return { layers, flat };
}

/** The manifest getFlatWeights gives for createSegmentationModel(config, seed), without building the model. */
export function modelWeightManifest(config: ModelConfig, options: ModelPlanOptions = {}): WeightSpec[] {
  return planModel(config, options).flat.map(({ weight }) => ({
    name: weight.name,
    shape: [...weight.shape],
  }));
}

/**
 * getFlatWeights(createSegmentationModel(config, seed), options), bit for bit, without tfjs: the values
 * come from the same seeded PRNG in the same order (layers in the network's order, as initializeWeights).
 */
export function initialFlatWeights(
  config: ModelConfig,
  seed: number,
  options: ModelPlanOptions = {},
): FlatWeights {
  const { layers, flat } = planModel(config, options);
  const size = (w: PlannedWeight): number => w.shape.reduce((a, b) => a * b, 1);
  const offsets = new Map<PlannedWeight, number>();
  let total = 0;
  for (const { weight } of flat) {
    offsets.set(weight, total);
    total += size(weight);
  }
  const data = new Float32Array(total);
  const rng = seededRandom(seed);
  for (const l of layers) {
    for (const w of [...l.weights.filter((x) => x.trainable), ...l.weights.filter((x) => !x.trainable)]) {
      const offset = offsets.get(w);
      // Weights FedBN leaves out are visited too: the PRNG must advance exactly as in initializeWeights.
      const out = offset === undefined ? new Float32Array(size(w)) : data.subarray(offset, offset + size(w));
      fillInitialValues(w.name, w.shape, l.transposed, rng, out);
    }
  }
  return { manifest: flat.map(({ weight }) => ({ name: weight.name, shape: [...weight.shape] })), data };
}
