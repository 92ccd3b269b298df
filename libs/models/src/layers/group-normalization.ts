import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import { ModelConfigError } from '../errors';

export interface GroupNormalizationArgs extends LayerArgs {
  groups: number;
  epsilon?: number;
}

/**
 * Group normalization for NDHWC volumes (Wu & He, 2018): channels are split into `groups`; each sample and
 * group is normalized over its voxels and channels, then scaled and shifted per channel. groups = channels
 * is instance norm, groups = 1 is layer norm. The group axis is formed by a rank-4 reshape
 * [b, voxels, groups, channels/groups] so every backend's generic reduction handles it.
 */
export class GroupNormalization3D extends tfl.layers.Layer {
  static readonly className = 'FedsegGroupNormalization3D';
  private readonly groups: number;
  private readonly epsilon: number;
  private gamma?: LayerVariable;
  private beta?: LayerVariable;

  constructor(args: GroupNormalizationArgs) {
    super(args);
    this.groups = args.groups;
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number')
      throw new ModelConfigError(`${this.name}: the channel dimension must be known`);
    if (channels % this.groups !== 0) {
      throw new ModelConfigError(
        `${this.name}: ${channels} channels cannot be split into ${this.groups} groups`,
      );
    }
    this.gamma = this.addWeight('gamma', [channels], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const [b, d, h, w, c] = x.shape as [number, number, number, number, number];
      const grouped = tf.reshape(x, [b, d * h * w, this.groups, c / this.groups]);
      const { mean, variance } = tf.moments(grouped, [1, 3], true);
      const normalized = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
      return tf.add(tf.mul(tf.reshape(normalized, x.shape), this.gamma!.read()), this.beta!.read());
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, epsilon: this.epsilon };
  }
}
