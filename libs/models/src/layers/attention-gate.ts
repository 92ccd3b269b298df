import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import { ModelConfigError } from '../errors';

export interface AttentionGateArgs extends LayerArgs {
  /** Channels of the intermediate map (F_int in the paper). */
  interChannels: number;
}

/**
 * Additive attention gate of Attention U-Net (Oktay et al., 2018, eq. 1-2):
 *   alpha = sigmoid(psi^T relu(W_x^T x + W_g^T g + b) + b_psi),  out = x * alpha
 * Inputs are [x, g]: x is the encoder skip, g the gating signal from the coarser level, already upsampled to
 * x's grid by the decoder's transposed convolution (as MONAI's AttentionUnet does), so every W is 1x1x1.
 * One layer holds all gate weights so the exported topology stays small and the gate is one concept.
 */
export class AttentionGate3D extends tfl.layers.Layer {
  static readonly className = 'FedsegAttentionGate3D';
  private readonly interChannels: number;
  private wx?: LayerVariable;
  private wg?: LayerVariable;
  private bias?: LayerVariable;
  private psi?: LayerVariable;
  private psiBias?: LayerVariable;

  constructor(args: AttentionGateArgs) {
    super(args);
    this.interChannels = args.interChannels;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shapes = inputShape as tfl.Shape[];
    const cx = shapes[0]![4];
    const cg = shapes[1]![4];
    if (typeof cx !== 'number' || typeof cg !== 'number')
      throw new ModelConfigError(`${this.name}: channel dimensions must be known`);
    const f = this.interChannels;
    // Zeros here: initializeWeights draws every kernel from the model seed afterwards.
    const init = tfl.initializers.zeros();
    this.wx = this.addWeight('wx', [1, 1, 1, cx, f], 'float32', init);
    this.wg = this.addWeight('wg', [1, 1, 1, cg, f], 'float32', init);
    this.bias = this.addWeight('bias', [f], 'float32', tfl.initializers.zeros());
    this.psi = this.addWeight('psi', [1, 1, 1, f, 1], 'float32', init);
    this.psiBias = this.addWeight('psi_bias', [1], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [x, g] = inputs as [tf.Tensor5D, tf.Tensor5D];
      const wx = this.wx!.read() as tf.Tensor5D;
      const wg = this.wg!.read() as tf.Tensor5D;
      const joint = tf.relu(
        tf.add(tf.add(tf.conv3d(x, wx, 1, 'same'), tf.conv3d(g, wg, 1, 'same')), this.bias!.read()),
      );
      const alpha = tf.sigmoid(
        tf.add(
          tf.conv3d(joint as tf.Tensor5D, this.psi!.read() as tf.Tensor5D, 1, 'same'),
          this.psiBias!.read(),
        ),
      );
      return tf.mul(x, alpha);
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return (inputShape as tfl.Shape[])[0]!;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), interChannels: this.interChannels };
  }
}
