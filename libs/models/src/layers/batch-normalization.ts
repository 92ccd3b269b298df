import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { Kwargs } from '@tensorflow/tfjs-layers/dist/types';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import { ModelConfigError } from '../errors';

export interface BatchNormalizationArgs extends LayerArgs {
  momentum?: number;
  epsilon?: number;
}

/**
 * Batch normalization for NDHWC volumes (Ioffe & Szegedy, 2015). tfjs-layers' BatchNormalization cannot
 * train on rank-5 tensors ("not implemented for array of rank 5"), hence this layer. Training: normalize with
 * the batch's mean and (biased) variance over [b, z, y, x] and update the running statistics,
 * running = momentum * running + (1 - momentum) * batch; inference: use the running statistics.
 * Defaults momentum 0.9, eps 1e-5 match PyTorch's BatchNorm3d.
 */
export class BatchNormalization3D extends tfl.layers.Layer {
  static readonly className = 'FedsegBatchNormalization3D';
  private readonly momentum: number;
  private readonly epsilon: number;
  private gamma?: LayerVariable;
  private beta?: LayerVariable;
  private movingMean?: LayerVariable;
  private movingVariance?: LayerVariable;

  constructor(args: BatchNormalizationArgs = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.9;
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number')
      throw new ModelConfigError(`${this.name}: the channel dimension must be known`);
    this.gamma = this.addWeight('gamma', [channels], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tfl.initializers.zeros());
    this.movingMean = this.addWeight(
      'moving_mean',
      [channels],
      'float32',
      tfl.initializers.zeros(),
      undefined,
      false,
    );
    this.movingVariance = this.addWeight(
      'moving_variance',
      [channels],
      'float32',
      tfl.initializers.ones(),
      undefined,
      false,
    );
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const training = kwargs['training'] === true;
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (training) {
        ({ mean, variance } = tf.moments(x, [0, 1, 2, 3]));
        const m = this.momentum;
        // The running statistics are state, not part of the loss, so backprop never reaches these ops.
        this.movingMean!.write(tf.add(tf.mul(this.movingMean!.read(), m), tf.mul(mean, 1 - m)));
        this.movingVariance!.write(tf.add(tf.mul(this.movingVariance!.read(), m), tf.mul(variance, 1 - m)));
      } else {
        mean = this.movingMean!.read();
        variance = this.movingVariance!.read();
      }
      const normalized = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
      return tf.add(tf.mul(normalized, this.gamma!.read()), this.beta!.read());
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}
