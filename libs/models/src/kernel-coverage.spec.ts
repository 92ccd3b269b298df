import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig, TrainingConfig } from '@fedseg/protocol';
import { initBackend } from './backend/init-backend';
import { patchBatch } from './data/patch-batch';
import { predictLabels } from './inference/sliding-window';
import { segmentationLoss } from './losses/segmentation-loss';
import { createSegmentationModel } from './model/segmentation-model';
import { TFJS_NODE_KERNELS } from './testing/tfjs-node-kernels';
import { spherePhantom } from './testing/sphere-phantom';
import { trainLocal } from './training/train-local';

/**
 * Every kernel a training step, the optimizer update and inference run — recorded with tf.profile for each
 * architecture and normalization — has a kernel on wasm and on cpu, a registered gradient where it sits
 * on the loss's tape, and appears in tfjs-node's kernel list (so the `tensorflow` backend runs it too).
 */
jest.setTimeout(60_000);

const variants = [
  ['unet3d', 'instance'],
  ['attention-unet3d', 'group'],
  ['res-unet3d', 'batch'],
  ['tiny-convnet', 'none'],
] as const;

/**
 * Kernel names run by fn. tf.customGrad ops (tf.logSoftmax) show up as `<op>__op`: they carry their own
 * gradient and are not kernels; the kernels inside them are recorded separately, so they are dropped here.
 */
async function kernelsOf(fn: () => unknown): Promise<Set<string>> {
  const info = await tf.profile(async () => {
    await fn();
    return [];
  });
  return new Set(info.kernelNames.filter((k) => !k.endsWith('__op')));
}

describe('kernel coverage', () => {
  beforeAll(async () => {
    await initBackend('wasm', { fastKernels: false });
  });

  it.each(variants)(
    '%s with %s norm uses only kernels with wasm, cpu and tfjs-node implementations and gradients',
    async (architecture, normalization) => {
      const config = ModelConfig.parse({
        architecture,
        normalization,
        baseFilters: 2,
        depth: 2,
        groupNormGroups: 2,
        numClasses: 3,
      });
      const model = createSegmentationModel(config, 1);
      const volume = spherePhantom({ shape: [4, 4, 4], radius: 1.5, innerRadius: 0.7 });
      const { images, labels } = patchBatch([volume], [[0, 0, 0]], [4, 4, 4], 3);
      const forward = await kernelsOf(() =>
        tf.tidy(() =>
          segmentationLoss(model.network.apply(images, { training: true }) as tf.Tensor5D, labels, {
            kind: 'dice-ce',
            classWeights: [1, 2, 3],
          }),
        ),
      );
      const all = new Set(forward);
      for (const optimizer of ['adam', 'sgd'] as const) {
        const cfg = TrainingConfig.parse({
          epochs: 1,
          batchSize: 1,
          optimizer,
          fedProxMu: 0.1,
          patchSize: [4, 4, 4],
        });
        for (const k of await kernelsOf(() => trainLocal(model, [volume], cfg))) all.add(k);
      }
      for (const k of await kernelsOf(() =>
        predictLabels(model, volume.image, volume.shape, 1, { windowSize: [2, 2, 2] }),
      ))
        all.add(k);
      tf.dispose([images, labels]);
      model.dispose();

      const missing = (predicate: (kernel: string) => boolean, kernels: Set<string>): string[] =>
        [...kernels].filter((k) => !predicate(k)).sort();
      expect(all.has('Conv3D')).toBe(true);
      if (process.env['FEDSEG_PRINT_FIGURES']) console.log(architecture, [...all].sort().join(' '));
      expect(missing((k) => tf.getGradient(k) !== undefined, forward)).toEqual([]);
      expect(missing((k) => tf.getKernel(k, 'wasm') !== undefined, all)).toEqual([]);
      expect(missing((k) => tf.getKernel(k, 'cpu') !== undefined, all)).toEqual([]);
      expect(missing((k) => TFJS_NODE_KERNELS.has(k), all)).toEqual([]);
    },
  );
});
