import * as tf from '@tensorflow/tfjs-core';

/**
 * Voxel-wise categorical cross-entropy from logits, with optional class weights (index = class id):
 *   CE = sum_v w_{y_v} (-log softmax(z_v)_{y_v}) / sum_v w_{y_v}
 * i.e. PyTorch's CrossEntropyLoss(weight=w, reduction='mean'). log-softmax keeps it stable for large logits.
 */
export function crossEntropyLoss(
  logits: tf.Tensor5D,
  oneHot: tf.Tensor5D,
  classWeights?: readonly number[],
): tf.Scalar {
  return tf.tidy(() => {
    const logProbs = tf.logSoftmax(logits, -1);
    if (!classWeights) return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logProbs), -1))) as tf.Scalar;
    const classes = logits.shape[4];
    const w = tf.tensor1d(Array.from({ length: classes }, (_, k) => classWeights[k] ?? 1));
    const weightedTargets = tf.mul(oneHot, w);
    return tf.div(tf.neg(tf.sum(tf.mul(weightedTargets, logProbs))), tf.sum(weightedTargets)) as tf.Scalar;
  });
}
