import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/init-backend';
import { crossEntropyLoss } from './cross-entropy-loss';
import { segmentationLoss } from './segmentation-loss';
import { softDiceLoss } from './soft-dice-loss';

/**
 * Hand-worked cases. Two voxels, three classes: softmax probabilities v0 = [0.1, 0.7, 0.2] (label 1) and
 * v1 = [0.2, 0.2, 0.6] (label 2), i.e. logits v0 = [0, ln 7, ln 2], v1 = [ln 2, ln 2, ln 6].
 *   Dice_1 = 2*0.7 / (0.9 + 1) = 0.736842, Dice_2 = 2*0.6 / (0.8 + 1) = 0.666667
 *   CE = -(ln 0.7 + ln 0.6) / 2 = 0.433750; with weights [1, 1, 3]: (0.356675 + 3*0.510826) / 4 = 0.472288
 */
const probs = (): tf.Tensor5D => tf.tensor5d([0.1, 0.7, 0.2, 0.2, 0.2, 0.6], [1, 1, 1, 2, 3]);
const logits = (): tf.Tensor5D =>
  tf.tensor5d([0, Math.log(7), Math.log(2), Math.log(2), Math.log(2), Math.log(6)], [1, 1, 1, 2, 3]);
const oneHot = (): tf.Tensor5D => tf.tensor5d([0, 1, 0, 0, 0, 1], [1, 1, 1, 2, 3]);
const value = (t: tf.Scalar): number => {
  const v = t.dataSync()[0]!;
  t.dispose();
  return v;
};

describe('segmentation losses', () => {
  beforeAll(async () => {
    await initBackend('cpu', { fastKernels: false });
  });

  it('soft Dice averages the foreground classes and ignores background', () => {
    expect(value(softDiceLoss(probs(), oneHot(), { smooth: 0 }))).toBeCloseTo(
      1 - (0.736842 + 0.666667) / 2,
      5,
    );
  });

  it('soft Dice applies class weights and smoothing', () => {
    expect(value(softDiceLoss(probs(), oneHot(), { smooth: 0, classWeights: [5, 1, 3] }))).toBeCloseTo(
      1 - (0.736842 + 3 * 0.666667) / 4,
      5,
    );
    // Two classes, p_fg = [0.8, 0.4], y = [1, 0], smooth 1: 1 - (1.6 + 1) / (2.2 + 1) = 0.1875.
    const p = tf.tensor5d([0.2, 0.8, 0.6, 0.4], [1, 1, 1, 2, 2]);
    const y = tf.tensor5d([0, 1, 1, 0], [1, 1, 1, 2, 2]);
    expect(value(softDiceLoss(p, y, { smooth: 1 }))).toBeCloseTo(0.1875, 6);
  });

  it('soft Dice stays finite for a class absent from labels and prediction', () => {
    const p = tf.tensor5d([1, 0, 1, 0], [1, 1, 1, 2, 2]);
    const y = tf.tensor5d([1, 0, 1, 0], [1, 1, 1, 2, 2]);
    expect(value(softDiceLoss(p, y))).toBeCloseTo(0, 6);
  });

  it('cross-entropy matches the hand value, with and without class weights', () => {
    expect(value(crossEntropyLoss(logits(), oneHot()))).toBeCloseTo(0.43375, 5);
    expect(value(crossEntropyLoss(logits(), oneHot(), [1, 1, 3]))).toBeCloseTo(0.472288, 5);
  });

  it('Dice + CE is the sum of the two', () => {
    const dice = 1 - (0.736842 + 0.666667) / 2;
    expect(value(segmentationLoss(logits(), oneHot(), { kind: 'dice-ce', diceSmooth: 0 }))).toBeCloseTo(
      dice + 0.43375,
      5,
    );
    expect(value(segmentationLoss(logits(), oneHot(), { kind: 'dice', diceSmooth: 0 }))).toBeCloseTo(dice, 5);
    expect(value(segmentationLoss(logits(), oneHot(), { kind: 'ce' }))).toBeCloseTo(0.43375, 5);
  });
});
