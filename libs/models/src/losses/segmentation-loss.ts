import * as tf from '@tensorflow/tfjs-core';
import { crossEntropyLoss } from './cross-entropy-loss';
import { softDiceLoss } from './soft-dice-loss';

export type SegmentationLossKind = 'dice' | 'ce' | 'dice-ce';

export interface SegmentationLossOptions {
  kind: SegmentationLossKind;
  classWeights?: readonly number[];
  diceSmooth?: number;
}

/** The training loss from logits [b, z, y, x, K] and one-hot labels: Dice, CE, or their sum (nnU-Net's default). */
export function segmentationLoss(
  logits: tf.Tensor5D,
  oneHot: tf.Tensor5D,
  options: SegmentationLossOptions,
): tf.Scalar {
  return tf.tidy(() => {
    const dice = (): tf.Scalar =>
      softDiceLoss(tf.softmax(logits, -1) as tf.Tensor5D, oneHot, {
        smooth: options.diceSmooth,
        classWeights: options.classWeights,
      });
    const ce = (): tf.Scalar => crossEntropyLoss(logits, oneHot, options.classWeights);
    switch (options.kind) {
      case 'dice':
        return dice();
      case 'ce':
        return ce();
      case 'dice-ce':
        return tf.add(dice(), ce()) as tf.Scalar;
    }
  });
}
