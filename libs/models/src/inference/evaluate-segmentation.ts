import {
  diceScore,
  evaluateSegmentation as evaluateCase,
  summarizeMetrics,
  type ClassMetrics,
  type ClassSummary,
} from '@fedseg/imaging';
import type { Vec3 } from '../data/patch-batch';
import { assertSampleFits, type TrainingSample } from '../data/training-sample';
import type { SegmentationModel } from '../model/segmentation-model';
import { argmaxLabels, predictProbabilities, type SlidingWindowOptions } from './sliding-window';

/** A labelled volume to score: a training sample plus its voxel spacing. */
export interface EvaluationCase extends TrainingSample {
  /**
   * Voxel spacing [dx, dy, dz] in mm, for HD95 and ASSD. Without it 1 mm isotropic is assumed, so those two
   * come out in voxel units (Dice does not depend on spacing).
   */
  spacingMm?: Vec3;
}

export interface EvaluateSegmentationOptions extends SlidingWindowOptions {
  /**
   * Called with each case's predicted label map (x fastest) before it is scored; a testing aid (the agent's
   * prediction dump). The array must not be modified.
   */
  onPrediction?: (index: number, predicted: Uint8Array) => void | Promise<void>;
}

export interface SegmentationEvaluation {
  /** Mean over foreground classes 1..K-1 of each class's mean Dice over cases (NaN cases excluded). */
  dice: number;
  /** Same reduction for HD95, in mm (MONAI's symmetric 95th percentile, see @fedseg/imaging hausdorffDistance). */
  hd95Mm: number;
  /** Same reduction for the average symmetric surface distance, in mm. */
  assdMm: number;
  /**
   * One entry per foreground class (label 1..K-1): mean over the cases where the metric is defined, with the
   * counts of defined and undefined (NaN) cases, from @fedseg/imaging's summarizeMetrics.
   */
  perClass: ClassSummary[];
  /** Mean Dice per class id, background (index 0) included for completeness; NaN where undefined everywhere. */
  perClassDice: number[];
  /** Mean over cases of voxel-mean cross-entropy + (1 - mean foreground soft Dice) of the stitched probabilities. */
  loss: number;
  cases: number;
}

const EPS = 1e-7;

/**
 * Scores a model on labelled volumes of any size, as the field reports segmentation (Maier-Hein et al., 2024,
 * "Metrics reloaded"): each volume is segmented by sliding-window inference (whole volume in one window
 * unless options.windowSize is given), then every foreground class is scored with @fedseg/imaging's Dice,
 * HD95 and ASSD in mm at the case's spacing. Empty masks follow MONAI (see @fedseg/imaging diceScore and
 * hausdorffDistance): an undefined case is NaN, left out of the class's mean and counted in `undefinedCases`.
 */
export async function evaluateSegmentation(
  model: SegmentationModel,
  data: readonly EvaluationCase[],
  options: EvaluateSegmentationOptions = {},
): Promise<SegmentationEvaluation> {
  const classes = model.config.numClasses;
  const foreground = Array.from({ length: classes - 1 }, (_, k) => k + 1);
  const perCase: ClassMetrics[][] = [];
  const background: number[] = [];
  const losses: number[] = [];
  for (const [index, sample] of data.entries()) {
    assertSampleFits(sample, index, model.config.inChannels, classes);
    const probs = await predictProbabilities(model, sample.image, sample.shape, sample.channels, options);
    const predicted = argmaxLabels(probs, classes);
    await options.onPrediction?.(index, predicted);
    perCase.push(
      evaluateCase(predicted, sample.label, sample.shape, sample.spacingMm ?? [1, 1, 1], foreground),
    );
    background.push(diceScore(predicted, sample.label, 0));
    losses.push(diceCeLoss(probs, sample.label, classes));
    // Lets a daemon's socket breathe between volumes.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const perClass = summarizeMetrics(perCase);
  const classMean = (pick: (c: ClassSummary) => number): number => nanMean(perClass.map(pick));
  return {
    dice: classMean((c) => c.dice.mean),
    hd95Mm: classMean((c) => c.hd95Mm.mean),
    assdMm: classMean((c) => c.assdMm.mean),
    perClass,
    perClassDice: [nanMean(background), ...perClass.map((c) => c.dice.mean)],
    loss: nanMean(losses),
    cases: data.length,
  };
}

/** Mean of the values that are not NaN; NaN when there are none. */
function nanMean(values: readonly number[]): number {
  const defined = values.filter((v) => !Number.isNaN(v));
  return defined.length === 0 ? NaN : defined.reduce((a, b) => a + b, 0) / defined.length;
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
