import {
  diceScore,
  evaluateSegmentation as evaluateCase,
  labelToNativeGrid,
  normalizeForPlan,
  summarizeMetrics,
  toPlanGrid,
  type ClassMetrics,
  type ClassSummary,
} from '@fedseg/imaging';
import type { ChannelNormalization } from '@fedseg/protocol';
import type { Vec3 } from '../data/patch-batch';
import { assertSampleFits, type TrainingSample } from '../data/training-sample';
import { SampleShapeError } from '../errors';
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
  /**
   * Issue 18's plan grid. When given, every case's image holds raw intensities (not normalized) and must carry
   * spacingMm: it is cropped to the body and resampled to `targetSpacingMm` (toPlanGrid), normalized per the
   * plan (normalizeForPlan), segmented there, and the labels are brought back to the native grid
   * (labelToNativeGrid), so Dice, HD95 and ASSD are measured in the case's own space and onPrediction gets
   * native labels. The loss is computed on the plan grid, where the network works.
   */
  planGrid?: {
    targetSpacingMm: Vec3;
    normalization: readonly ChannelNormalization[];
    /** Body threshold for the crop (CT: above air); default any non-zero voxel. */
    cropThreshold?: number;
  };
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
    const { predicted, probs, lossLabel } = await segmentCase(model, sample, index, options);
    await options.onPrediction?.(index, predicted);
    perCase.push(
      evaluateCase(predicted, sample.label, sample.shape, sample.spacingMm ?? [1, 1, 1], foreground),
    );
    background.push(diceScore(predicted, sample.label, 0));
    losses.push(diceCeLoss(probs, lossLabel, classes));
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

/**
 * Native-grid labels for one case, plus the probabilities and the label on the grid they were computed on
 * (the plan grid when options.planGrid is set, else the case's own).
 */
async function segmentCase(
  model: SegmentationModel,
  sample: EvaluationCase,
  index: number,
  options: EvaluateSegmentationOptions,
): Promise<{ predicted: Uint8Array; probs: Float32Array; lossLabel: Uint8Array }> {
  const classes = model.config.numClasses;
  const plan = options.planGrid;
  if (!plan) {
    const probs = await predictProbabilities(model, sample.image, sample.shape, sample.channels, options);
    return { predicted: argmaxLabels(probs, classes), probs, lossLabel: sample.label };
  }
  if (!sample.spacingMm)
    throw new SampleShapeError(`Case ${index} has no spacingMm; the plan grid needs each case's spacing.`, {
      index,
    });
  const volume = {
    data: sample.image,
    shape: sample.shape,
    spacingMm: sample.spacingMm,
    channels: sample.channels,
  };
  const planCase = toPlanGrid(volume, sample.label, plan.targetSpacingMm, {
    cropThreshold: plan.cropThreshold,
  });
  const image = normalizeForPlan(planCase.image, plan.normalization);
  const probs = await predictProbabilities(model, image.data, image.shape, image.channels, options);
  const predicted = labelToNativeGrid(
    argmaxLabels(probs, classes),
    image.shape,
    plan.targetSpacingMm,
    planCase.native,
  );
  return { predicted, probs, lossLabel: planCase.label! };
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
