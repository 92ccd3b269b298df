import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { wrapNetwork, type SegmentationModel } from '../model/segmentation-model';
import { evaluateSegmentation, type EvaluationCase } from './evaluate-segmentation';
import { evaluationMetrics, METRIC_NAME } from './evaluation-metrics';

const N = 20;
const SHAPE: [number, number, number] = [N, N, N];

/** Label map with class `k` on the box [lo, hi]^3 shifted by dx along x, on top of `base`. */
function box(base: Uint8Array, k: number, lo: number, hi: number, dx = 0): Uint8Array {
  const out = Uint8Array.from(base);
  for (let z = lo; z <= hi; z++)
    for (let y = lo; y <= hi; y++) for (let x = lo + dx; x <= hi + dx; x++) out[x + N * (y + N * z)] = k;
  return out;
}

/**
 * A network whose argmax is its input: one 1x1x1 convolution with logits (0, 10x - 5, 20x - 20), so an image
 * holding the class ids 0, 1, 2 as intensities is segmented as exactly those ids. The predictions are then
 * known by construction and every figure below can be worked out by hand.
 */
function identitySegmenter(): SegmentationModel {
  const network = tfl.sequential({
    layers: [tfl.layers.conv3d({ filters: 3, kernelSize: 1, inputShape: [N, N, N, 1] })],
  });
  network.setWeights([tf.tensor5d([0, 10, 20], [1, 1, 1, 1, 3]), tf.tensor1d([0, -5, -20])]);
  return wrapNetwork(ModelConfig.parse({ architecture: 'tiny-convnet', numClasses: 3 }), network);
}

/** The same identity segmenter for any input shape (fully convolutional), for plan-grid volumes. */
function anyShapeIdentitySegmenter(): SegmentationModel {
  const network = tfl.sequential({
    layers: [tfl.layers.conv3d({ filters: 3, kernelSize: 1, inputShape: [null, null, null, 1] })],
  });
  network.setWeights([tf.tensor5d([0, 10, 20], [1, 1, 1, 1, 3]), tf.tensor1d([0, -5, -20])]);
  return wrapNetwork(ModelConfig.parse({ architecture: 'tiny-convnet', numClasses: 3 }), network);
}

function evaluationCase(predicted: Uint8Array, label: Uint8Array, spacingMm?: number): EvaluationCase {
  return {
    image: Float32Array.from(predicted),
    label,
    shape: SHAPE,
    channels: 1,
    ...(spacingMm === undefined ? {} : { spacingMm: [spacingMm, spacingMm, spacingMm] }),
  };
}

describe('evaluateSegmentation', () => {
  beforeAll(async () => {
    await initBackend('wasm', { fastKernels: false });
  });

  // Case 1: the organ (8^3 box) predicted one voxel off along x; the lesion (3^3 box) exact.
  // By hand, at 1 mm: Dice = 2 * 7*8*8 / (2 * 8^3) = 7/8. Each surface has 8^3 - 6^3 = 296 voxels; in each
  // direction 100 of them are 1 voxel from the other surface (the 64 of the leading face and the 36 inner
  // voxels of the trailing one), the other 196 lie on it. HD95 = the 95th percentile of 196 zeros and 100
  // ones = 1 voxel; ASSD = (100 + 100) / (296 + 296) voxels. Case 2: organ exact, and a lesion predicted where
  // the reference has none: Dice, HD95 and ASSD of the lesion are undefined there (MONAI), so excluded.
  const empty = new Uint8Array(N * N * N);
  const organ = box(empty, 1, 4, 11);
  const reference1 = box(organ, 2, 15, 17);
  const predicted1 = box(box(empty, 1, 4, 11, 1), 2, 15, 17);
  const predicted2 = box(organ, 2, 15, 17);
  const assdVoxels = 200 / 592;

  it('scores sliding-window predictions per class with Dice, HD95 and ASSD in mm at the case spacing', async () => {
    const model = identitySegmenter();
    const seen: Uint8Array[] = [];
    const e = await evaluateSegmentation(
      model,
      [evaluationCase(predicted1, reference1, 1.5), evaluationCase(predicted2, organ, 1.5)],
      { onPrediction: (_, p) => void seen.push(Uint8Array.from(p)) },
    );
    expect(seen).toEqual([predicted1, predicted2]);
    const [c1, c2] = e.perClass;
    expect(c1!.label).toBe(1);
    expect(c1!.dice.mean).toBeCloseTo((7 / 8 + 1) / 2, 12);
    expect(c1!.hd95Mm.mean).toBeCloseTo((1.5 + 0) / 2, 12);
    expect(c1!.assdMm.mean).toBeCloseTo((1.5 * assdVoxels + 0) / 2, 12);
    expect(c2).toEqual({
      label: 2,
      dice: { mean: 1, defined: 1, undefinedCases: 1 },
      hd95Mm: { mean: 0, defined: 1, undefinedCases: 1 },
      assdMm: { mean: 0, defined: 1, undefinedCases: 1 },
    });
    expect(e.dice).toBeCloseTo((15 / 16 + 1) / 2, 12);
    expect(e.hd95Mm).toBeCloseTo(0.75 / 2, 12);
    expect(e.assdMm).toBeCloseTo((0.75 * assdVoxels) / 2, 12);
    expect(e.perClassDice.slice(1)).toEqual([c1!.dice.mean, 1]);
    expect(e.cases).toBe(2);
    model.dispose();
  });

  it('takes 1 mm when a case has no spacing', async () => {
    const model = identitySegmenter();
    const e = await evaluateSegmentation(model, [evaluationCase(predicted1, reference1)]);
    expect(e.perClass[0]!.hd95Mm.mean).toBeCloseTo(1, 12);
    expect(e.perClass[0]!.assdMm.mean).toBeCloseTo(assdVoxels, 12);
    model.dispose();
  });

  it('names metrics for the wire and leaves undefined ones out', async () => {
    const model = identitySegmenter();
    // No lesion in any reference: every lesion figure is undefined at this site.
    const e = await evaluateSegmentation(model, [evaluationCase(predicted2, organ, 2)]);
    const metrics = evaluationMetrics(e);
    expect(Object.keys(metrics).sort()).toEqual([
      'assd',
      'assd_c1',
      'dice',
      'dice_c1',
      'hd95',
      'hd95_c1',
      'loss',
    ]);
    for (const name of Object.keys(metrics)) expect(name).toMatch(METRIC_NAME);
    expect(metrics).toMatchObject({ dice: 1, dice_c1: 1, hd95: 0, hd95_c1: 0, assd: 0, assd_c1: 0 });
    expect(JSON.parse(JSON.stringify(metrics))).toEqual(metrics);
    model.dispose();
  });

  it('on a plan grid, segments at the plan spacing and scores back on the native grid (hand-worked)', async () => {
    const model = anyShapeIdentitySegmenter();
    // Image = reference = organ [4..11]^3 + lesion [15..17]^3 at 1 mm; the plan is 2 mm. A CT normalization with
    // clip [0, 2], mean 0, std 1 is the identity on class ids. Body crop: the non-zero box [4..17]^3 (14 voxels),
    // so the plan grid has 7 voxels per axis reading crop voxels 0, 2, ..., 12 (no interpolation needed).
    // Back on the native grid, crop voxel j reads plan voxel min(round(j / 2), 6) (ties up): organ voxels j = 0..6
    // read organ, j = 7 reads crop voxel 8 (background), so the organ comes back as [4..10]^3 and Dice is
    // 2 * 7^3 / (8^3 + 7^3) = 686 / 855; lesion voxels j = 11..13 all read crop voxel 12 (lesion): exact.
    const seen: Uint8Array[] = [];
    const e = await evaluateSegmentation(
      model,
      [
        {
          image: Float32Array.from(reference1),
          label: reference1,
          shape: SHAPE,
          channels: 1,
          spacingMm: [1, 1, 1],
        },
      ],
      {
        planGrid: {
          targetSpacingMm: [2, 2, 2],
          normalization: [{ scheme: 'ct', clipLo: 0, clipHi: 2, mean: 0, std: 1 }],
        },
        onPrediction: (_, p) => void seen.push(Uint8Array.from(p)),
      },
    );
    expect(seen[0]).toHaveLength(N * N * N);
    expect(seen[0]).toEqual(box(box(empty, 1, 4, 10), 2, 15, 17));
    expect(e.perClass[0]!.dice.mean).toBeCloseTo(686 / 855, 12);
    expect(e.perClass[1]!.dice.mean).toBe(1);
    await expect(
      evaluateSegmentation(model, [evaluationCase(predicted1, reference1)], {
        planGrid: { targetSpacingMm: [2, 2, 2], normalization: [{ scheme: 'zscore' }] },
      }),
    ).rejects.toThrow(/no spacingMm/);
    model.dispose();
  });
});
