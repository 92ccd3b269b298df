import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import { ModelConfigError } from '../errors';
import { instanceNorm } from '../kernels/instance-norm';

export interface InstanceNormalizationArgs extends LayerArgs {
  epsilon?: number;
}

/**
 * Instance normalization for NDHWC volumes (Ulyanov et al., 2016): each sample and channel is normalized over
 * its own D x H x W voxels, then scaled and shifted per channel (affine gamma, beta). Preferred for 3D
 * segmentation because batches hold 1-2 patches, where batch statistics are too noisy (nnU-Net's choice).
 * tfjs-layers has none, so it is a custom layer, registered for serialization under `className`.
 */
export class InstanceNormalization3D extends tfl.layers.Layer {
  static readonly className = 'FedsegInstanceNormalization3D';
  private readonly epsilon: number;
  private gamma?: LayerVariable;
  private beta?: LayerVariable;

  constructor(args: InstanceNormalizationArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number')
      throw new ModelConfigError(`${this.name}: the channel dimension must be known`);
    this.gamma = this.addWeight('gamma', [channels], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    // One fused kernel (forward and gradient) where the backend has it, the same math in tfjs ops elsewhere.
    return instanceNorm(x, this.gamma!.read(), this.beta!.read(), this.epsilon);
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}
