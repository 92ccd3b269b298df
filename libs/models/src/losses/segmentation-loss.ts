import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import { FEDSEG_DICE_CE, type DiceCeAttrs } from '../kernels/fedseg-dice-ce';
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
  if (logits.dtype === 'float32' && tf.getKernel(FEDSEG_DICE_CE, tf.getBackend()) !== undefined) {
    return fusedLoss(logits, oneHot, options);
  }
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

/**
 * The same loss as one fused kernel (kernels/fedseg-dice-ce.ts, registered on cpu and wasm by
 * registerFastKernels), which returns the gradient with the value; differentiable in the logits only (the
 * labels are data). The gradient is computed even when nobody asks for it, a pass over the logits.
 */
function fusedLoss(logits: tf.Tensor5D, oneHot: tf.Tensor5D, options: SegmentationLossOptions): tf.Scalar {
  const attrs: DiceCeAttrs = {
    dice: options.kind === 'ce' ? 0 : 1,
    ce: options.kind === 'dice' ? 0 : 1,
    smooth: options.diceSmooth ?? 1e-5,
    classWeights: [...(options.classWeights ?? [])],
  };
  const run = tf.customGrad((...args: (tf.Tensor | ((saved: tf.Tensor[]) => void))[]) => {
    const z = args[0] as tf.Tensor;
    const save = args[1] as (saved: tf.Tensor[]) => void;
    const [loss, grad] = tf
      .engine()
      .runKernel(FEDSEG_DICE_CE, { logits: z, oneHot }, attrs as unknown as NamedAttrMap) as [
      tf.Tensor,
      tf.Tensor,
    ];
    save([grad]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => [
        tf.mul(saved[0]!, Array.isArray(dy) ? dy[0]! : dy),
      ],
    };
  });
  return run(logits) as tf.Scalar;
}
