import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// Registers tfjs's gradients (the composite reference differentiates through them).
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { segmentationLoss, type SegmentationLossOptions } from '../losses/segmentation-loss';
import { centralDifference, relativeError } from '../testing/finite-difference';
import { seededRandom } from '../util/seeded-random';
import { diceCeLoss, FEDSEG_DICE_CE } from './fedseg-dice-ce';
import { loadNativeKernels } from './native-addon';
import { registerFastKernels, restoreOriginalKernels } from './register';

/**
 * The fused segmentation loss against two independent references: the composite of tfjs ops
 * (losses/segmentation-loss.ts without the fast kernels, its gradient by tfjs's autodiff) for value and
 * gradient, and central finite differences of the fused value for the gradient.
 */
type Shape5 = [number, number, number, number, number];

function inputs(shape: Shape5, seed: number): { logits: Float32Array; oneHot: Float32Array } {
  const rng = seededRandom(seed);
  const classes = shape[4];
  const size = shape.reduce((a, b) => a * b, 1);
  const logits = Float32Array.from({ length: size }, () => (rng.next() * 2 - 1) * 3);
  const oneHot = new Float32Array(size);
  for (let v = 0; v < size / classes; v++) oneHot[v * classes + rng.int(classes)] = 1;
  return { logits, oneHot };
}

async function lossAndGrad(
  backendName: string,
  fused: boolean,
  shape: Shape5,
  options: SegmentationLossOptions,
  oneHotDtype: 'float32' | 'int32' = 'float32',
  native = false,
): Promise<{ loss: number; grad: Float32Array }> {
  await tf.setBackend(backendName);
  if (fused) await registerFastKernels(backendName, () => undefined, { native, simd: false });
  else restoreOriginalKernels(backendName);
  expect(tf.getKernel(FEDSEG_DICE_CE, backendName) !== undefined).toBe(fused);
  try {
    const { logits, oneHot } = inputs(shape, 3);
    const z = tf.tensor5d(logits, shape);
    const y = tf.cast(tf.tensor5d(oneHot, shape), oneHotDtype) as tf.Tensor5D;
    const { value, grads } = tf.valueAndGrads((t: tf.Tensor) =>
      segmentationLoss(t as tf.Tensor5D, y, options),
    )([z]);
    const out = { loss: value.dataSync()[0]!, grad: grads[0]!.dataSync() as Float32Array };
    tf.dispose([z, y, value, ...grads]);
    return out;
  } finally {
    restoreOriginalKernels(backendName);
  }
}

const CASES: { name: string; shape: Shape5; options: SegmentationLossOptions }[] = [
  {
    name: 'Dice + CE, 2 classes (bench-unet3d)',
    shape: [2, 4, 3, 5, 2],
    options: { kind: 'dice-ce', diceSmooth: 1 },
  },
  {
    name: 'Dice + CE, 3 classes, class weights',
    shape: [1, 3, 4, 3, 3],
    options: { kind: 'dice-ce', classWeights: [0.5, 2, 1] },
  },
  { name: 'Dice only, 3 classes', shape: [2, 3, 3, 3, 3], options: { kind: 'dice', diceSmooth: 1e-5 } },
  { name: 'CE only, weighted', shape: [1, 5, 3, 2, 2], options: { kind: 'ce', classWeights: [1, 3] } },
];

// The addon's loops too, where it is built (skipped cleanly on machines without libdnnl-dev).
const engines = loadNativeKernels().kernels?.diceCeLoss ? [false, true] : [false];

describe('FedsegDiceCE', () => {
  for (const backendName of ['cpu', 'wasm']) {
    for (const native of engines) {
      for (const c of CASES) {
        it(`on ${backendName}${native ? ' with the addon' : ''}, ${c.name}: value and gradient equal the composite's`, async () => {
          const fused = await lossAndGrad(backendName, true, c.shape, c.options, 'float32', native);
          const composite = await lossAndGrad(backendName, false, c.shape, c.options);
          expect(Math.abs(fused.loss - composite.loss)).toBeLessThan(1e-5 * Math.max(1, composite.loss));
          expect(relativeError(fused.grad, composite.grad)).toBeLessThan(1e-4);
        });
      }
    }
  }

  it('takes int32 one-hot labels as the composite does', async () => {
    const c = CASES[0]!;
    const fused = await lossAndGrad('cpu', true, c.shape, c.options, 'int32');
    const composite = await lossAndGrad('cpu', false, c.shape, c.options, 'int32');
    expect(Math.abs(fused.loss - composite.loss)).toBeLessThan(1e-5);
    expect(relativeError(fused.grad, composite.grad)).toBeLessThan(1e-4);
  });

  for (const c of CASES) {
    it(`${c.name}: the gradient matches central finite differences of the value`, () => {
      const { logits, oneHot } = inputs(c.shape, 5);
      const classes = c.shape[4];
      const attrs = {
        dice: c.options.kind === 'ce' ? 0 : 1,
        ce: c.options.kind === 'dice' ? 0 : 1,
        smooth: c.options.diceSmooth ?? 1e-5,
        classWeights: [...(c.options.classWeights ?? [])],
      };
      const grad = new Float32Array(logits.length);
      diceCeLoss(logits, oneHot, classes, attrs, grad);
      const scratch = new Float32Array(logits.length);
      const indices = Array.from({ length: 12 }, (_, i) => (i * 7) % logits.length);
      const numeric = centralDifference(
        (z) => diceCeLoss(z, oneHot, classes, attrs, scratch),
        logits,
        1e-2,
        indices,
      );
      expect(
        relativeError(
          indices.map((i) => grad[i]!),
          numeric,
        ),
      ).toBeLessThan(2e-3);
    });
  }
});
