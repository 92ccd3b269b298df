import * as tf from '@tensorflow/tfjs-core';

export interface SoftDiceOptions {
  /** Added to numerator and denominator (MONAI's smooth_nr/smooth_dr); keeps empty classes finite. */
  smooth?: number;
  /** Per-class weights, index = class id; only foreground entries are used. Default: all 1. */
  classWeights?: readonly number[];
}

/**
 * Multi-class soft Dice loss (Milletari et al., 2016, V-Net) over foreground classes 1..K-1:
 *   dice_k = (2 sum(p_k y_k) + s) / (sum(p_k) + sum(y_k) + s),   loss = 1 - sum_k w_k dice_k / sum_k w_k
 * Sums run over the whole batch ("batch Dice", as nnU-Net), so a patch without foreground does not
 * produce a 0/0 term. probs: softmax output [b, z, y, x, K]; oneHot: same shape.
 */
export function softDiceLoss(
  probs: tf.Tensor5D,
  oneHot: tf.Tensor5D,
  options: SoftDiceOptions = {},
): tf.Scalar {
  return tf.tidy(() => {
    const classes = probs.shape[4];
    const smooth = options.smooth ?? 1e-5;
    const axes = [0, 1, 2, 3];
    const intersection = tf.sum(tf.mul(probs, oneHot), axes);
    const denominator = tf.add(tf.sum(probs, axes), tf.sum(oneHot, axes));
    const dice = tf.div(tf.add(tf.mul(intersection, 2), smooth), tf.add(denominator, smooth));
    const foreground = tf.slice(dice, [1], [classes - 1]);
    const weights = (options.classWeights ?? []).slice(1, classes);
    const w = tf.tensor1d(Array.from({ length: classes - 1 }, (_, i) => weights[i] ?? 1));
    return tf.sub(1, tf.div(tf.sum(tf.mul(foreground, w)), tf.sum(w))) as tf.Scalar;
  });
}
