import { assertSampleFits, type TrainingSample } from '../data/training-sample';
import type { SegmentationModel } from '../model/segmentation-model';
import { diceScore, nanMean } from './dice-score';
import { argmaxLabels, predictProbabilities, type SlidingWindowOptions } from './sliding-window';

export interface SegmentationEvaluation {
  /** Mean foreground Dice: per class the mean over samples, then the mean over classes 1..K-1. */
  dice: number;
  /** Index = class id (0 = background, included for completeness); NaN where a class is absent everywhere. */
  perClassDice: number[];
  /** Mean over samples of voxel-mean cross-entropy + (1 - mean foreground soft Dice) of the stitched probabilities. */
  loss: number;
}

const EPS = 1e-7;

/**
 * Scores a model on labelled volumes of any size: each volume is segmented by sliding-window inference
 * (whole volume in one window unless options.windowSize is given), then compared with its labels.
 */
export async function evaluateSegmentation(
  model: SegmentationModel,
  data: readonly TrainingSample[],
  options: SlidingWindowOptions = {},
): Promise<SegmentationEvaluation> {
  const classes = model.config.numClasses;
  const perSample: number[][] = Array.from({ length: classes }, () => []);
  const losses: number[] = [];
  for (const [index, sample] of data.entries()) {
    assertSampleFits(sample, index, model.config.inChannels, classes);
    const probs = await predictProbabilities(model, sample.image, sample.shape, sample.channels, options);
    const predicted = argmaxLabels(probs, classes);
    for (let k = 0; k < classes; k++) perSample[k]!.push(diceScore(predicted, sample.label, k));
    losses.push(diceCeLoss(probs, sample.label, classes));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const perClassDice = perSample.map((scores) => nanMean(scores));
  return { dice: nanMean(perClassDice.slice(1)), perClassDice, loss: nanMean(losses) };
}

function diceCeLoss(probs: Float32Array, label: Uint8Array, classes: number): number {
  let ce = 0;
  const inter = new Float64Array(classes);
  const sumP = new Float64Array(classes);
  const sumT = new Float64Array(classes);
  for (let v = 0; v < label.length; v++) {
    const t = label[v]!;
    ce -= Math.log(Math.max(probs[v * classes + t]!, EPS));
    for (let k = 0; k < classes; k++) sumP[k] += probs[v * classes + k]!;
    sumT[t] += 1;
    inter[t] += probs[v * classes + t]!;
  }
  let dice = 0;
  for (let k = 1; k < classes; k++) dice += (2 * inter[k]! + 1e-5) / (sumP[k]! + sumT[k]! + 1e-5);
  return ce / label.length + 1 - dice / (classes - 1);
}
