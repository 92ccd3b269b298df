import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { webGpuDeviceErrors } from '../backend/webgpu-backend';
import { patchBatch } from '../data/patch-batch';
import { segmentationLoss } from '../losses/segmentation-loss';
import { createSegmentationModel } from '../model/segmentation-model';
import { spherePhantom } from '../testing/sphere-phantom';
import { describeOnWebGpu } from './testing/webgpu-availability';

/**
 * Forward logits, loss and every weight gradient of each architecture on webgpu against the cpu backend
 * (the reference: plain JavaScript loops in float32). Same seed, same weights on both (weights are drawn
 * in JavaScript from the seed), same phantom batch, training mode (batch statistics).
 *
 * Tolerance, float32: the backends sum in different orders, so for the logits and for every weight tensor
 *   ||webgpu - cpu||_2 <= 1e-4 * ||cpu||_2 + 1e-6 * ||all gradients, cpu||_2
 * (relative 1e-4: float32 epsilon 1.2e-7 times reductions of a few hundred to a few thousand terms, with
 * margin; measured 1e-7..2e-6 on lavapipe). The absolute term is for tensors whose exact gradient is zero,
 * where both backends return rounding noise: conv biases before instance or batch norm (the norm removes a
 * per-channel shift) and a 1-channel 1x1x1 conv before batch norm (the norm removes its scale). The loss
 * must agree within 1e-5 relative.
 */
jest.setTimeout(120_000);

const RELATIVE_TOLERANCE = 1e-4;
const ABSOLUTE_FRACTION = 1e-6;

const architectures = [
  { architecture: 'unet3d', normalization: 'instance' },
  { architecture: 'attention-unet3d', normalization: 'group' },
  { architecture: 'res-unet3d', normalization: 'batch' },
] as const;

interface Outcome {
  logits: Float32Array;
  loss: number;
  grads: Map<string, Float32Array>;
}

function l2(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v * v;
  return Math.sqrt(sum);
}

function l2Difference(actual: Float32Array, expected: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < expected.length; i++) sum += (actual[i]! - expected[i]!) ** 2;
  return Math.sqrt(sum);
}

/** ||a - e|| divided by its allowed bound; <= 1 passes. */
function toleranceUsed(actual: Float32Array, expected: Float32Array, absoluteScale: number): number {
  return (
    l2Difference(actual, expected) / (RELATIVE_TOLERANCE * l2(expected) + ABSOLUTE_FRACTION * absoluteScale)
  );
}

async function runOn(backend: 'cpu' | 'webgpu', config: ModelConfig): Promise<Outcome> {
  expect((await initBackend(backend, { fastKernels: false })).name).toBe(backend);
  const model = createSegmentationModel(config, 7);
  const samples = [3, 4].map((seed) =>
    spherePhantom({ shape: [8, 8, 8], radius: 3, innerRadius: 1.5, noise: 0.3, seed }),
  );
  const { images, labels } = patchBatch(
    samples,
    [
      [0, 0, 0],
      [0, 0, 0],
    ],
    [8, 8, 8],
    3,
  );
  const layerWeights = model.network.trainableWeights;
  const variables = layerWeights.map((w) => w.read() as tf.Variable);
  const logitsT = tf.tidy(() => model.network.apply(images, { training: true }) as tf.Tensor5D);
  const { value, grads } = tf.variableGrads(
    () =>
      segmentationLoss(model.network.apply(images, { training: true }) as tf.Tensor5D, labels, {
        kind: 'dice-ce',
        diceSmooth: 1,
      }),
    variables,
  );
  const outcome: Outcome = {
    logits: (await logitsT.data()) as Float32Array,
    loss: (await value.data())[0]!,
    grads: new Map(),
  };
  for (let i = 0; i < variables.length; i++) {
    outcome.grads.set(
      layerWeights[i]!.originalName,
      (await grads[variables[i]!.name]!.data()) as Float32Array,
    );
  }
  tf.dispose([logitsT, value, images, labels, ...Object.values(grads)]);
  model.dispose();
  return outcome;
}

describeOnWebGpu('webgpu forward and gradients match the cpu backend', () => {
  afterAll(async () => {
    await initBackend('cpu');
  });

  it.each(architectures)(
    '$architecture ($normalization norm): logits, loss and all weight gradients within float32 tolerance',
    async ({ architecture, normalization }) => {
      const config = ModelConfig.parse({
        architecture,
        normalization,
        baseFilters: 4,
        depth: 3,
        groupNormGroups: 2,
        numClasses: 3,
      });
      const cpu = await runOn('cpu', config);
      const gpu = await runOn('webgpu', config);
      expect(gpu.logits.length).toBe(cpu.logits.length);
      expect([...gpu.grads.keys()].sort()).toEqual([...cpu.grads.keys()].sort());
      const gradientScale = Math.hypot(...[...cpu.grads.values()].map(l2));
      const used: Record<string, number> = { logits: toleranceUsed(gpu.logits, cpu.logits, l2(cpu.logits)) };
      for (const [name, expected] of cpu.grads)
        used[name] = toleranceUsed(gpu.grads.get(name)!, expected, gradientScale);
      const worst = Object.entries(used)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3);
      if (process.env['FEDSEG_PRINT_PARITY'])
        console.log(architecture, {
          lossRelative: Math.abs(gpu.loss - cpu.loss) / Math.abs(cpu.loss),
          worst,
        });
      expect(Math.abs(gpu.loss - cpu.loss) / Math.abs(cpu.loss)).toBeLessThan(1e-5);
      // Reported as [tensor, fraction of its tolerance used]; every fraction must be below 1.
      expect(worst.filter(([, fraction]) => !(fraction < 1))).toEqual([]);
      expect(webGpuDeviceErrors().count).toBe(0);
    },
  );
});
