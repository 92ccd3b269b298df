import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig, TrainingConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { SampleShapeError, TrainingAbortedError } from '../errors';
import { evaluateSegmentation } from '../inference/evaluate-segmentation';
import { createSegmentationModel } from '../model/segmentation-model';
import { spherePhantom } from '../testing/sphere-phantom';
import { getFlatWeights } from '../weights/flat-weights';
import { trainLocal } from './train-local';

// Training runs take seconds on a shared 2-core machine; jest's 5 s default is for unit tests.
jest.setTimeout(120_000);

const small = (overrides: Partial<ModelConfig> = {}): ModelConfig =>
  ModelConfig.parse({ architecture: 'unet3d', baseFilters: 4, depth: 2, ...overrides });
const training = (overrides: Partial<TrainingConfig> = {}): TrainingConfig =>
  TrainingConfig.parse({
    epochs: 2,
    batchSize: 1,
    learningRate: 0.01,
    patchSize: [16, 16, 16],
    ...overrides,
  });
const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('trainLocal on wasm', () => {
  beforeAll(async () => {
    // Stock kernels (plus our corrections): the optional fast kernels are checked by their own tests.
    expect((await initBackend('wasm', { fastKernels: false })).name).toBe('wasm');
  });

  it.each(['unet3d', 'attention-unet3d', 'res-unet3d'] as const)(
    '%s overfits one synthetic volume to foreground Dice > 0.95',
    async (architecture) => {
      const model = createSegmentationModel(small({ architecture }), 1);
      const volume = spherePhantom({ shape: [12, 12, 12], radius: 4, noise: 0.1, seed: 3 });
      const result = await trainLocal(model, [volume], training({ epochs: 40 }));
      const { dice } = await evaluateSegmentation(model, [volume]);
      if (process.env['FEDSEG_PRINT_FIGURES'])
        console.log(
          `overfit ${architecture}: loss ${result.firstEpochLoss.toFixed(3)} -> ${result.lastEpochLoss.toFixed(3)}, Dice ${dice.toFixed(4)}`,
        );
      expect(result.lastEpochLoss).toBeLessThan(result.firstEpochLoss);
      expect(dice).toBeGreaterThan(0.95);
      model.dispose();
    },
  );

  it('keeps tf.memory() flat across steps, releases its optimizer state and leaks nothing in evaluation', async () => {
    const model = createSegmentationModel(small({ normalization: 'batch' }), 1);
    const volumes = [1, 2, 3].map((seed) => spherePhantom({ shape: [8, 8, 8], radius: 2.5, seed }));
    const before = tf.memory();
    const perStep: { numTensors: number; numBytes: number }[] = [];
    await trainLocal(model, volumes, training({ epochs: 2, fedProxMu: 0.1 }), {
      globalWeights: getFlatWeights(model),
      onProgress: () => perStep.push({ numTensors: tf.memory().numTensors, numBytes: tf.memory().numBytes }),
    });
    expect(perStep).toHaveLength(6);
    // Adam's moments appear at step 1; from then on nothing grows.
    for (const m of perStep.slice(1)) expect(m).toEqual(perStep[0]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    await evaluateSegmentation(model, volumes, { windowSize: [4, 4, 4] });
    expect(tf.memory().numTensors).toBe(before.numTensors);
    model.dispose();
  });

  it('is deterministic: the same seed gives bit-identical weights and losses', async () => {
    const run = async (): Promise<[Float32Array, number]> => {
      const model = createSegmentationModel(small({ architecture: 'attention-unet3d' }), 5);
      const volumes = [4, 5].map((seed) => spherePhantom({ shape: [12, 12, 10], radius: 3, seed }));
      const result = await trainLocal(model, volumes, training({ epochs: 2, patchSize: [8, 8, 8], seed: 9 }));
      const weights = getFlatWeights(model).data;
      model.dispose();
      return [weights, result.meanLoss];
    };
    const [a, lossA] = await run();
    const [b, lossB] = await run();
    expect(bytes(a).equals(bytes(b))).toBe(true);
    expect(lossA).toBe(lossB);
  });

  it('FedProx keeps the weights closer to the global anchor', async () => {
    const volume = spherePhantom({ shape: [8, 8, 8], radius: 2.5 });
    const distance = async (fedProxMu: number): Promise<number> => {
      const model = createSegmentationModel(small(), 2);
      const anchor = getFlatWeights(model);
      await trainLocal(
        model,
        [volume],
        training({ epochs: 5, fedProxMu, optimizer: 'sgd', learningRate: 0.05 }),
        { globalWeights: anchor },
      );
      const after = getFlatWeights(model).data;
      model.dispose();
      return Math.sqrt(after.reduce((s, v, i) => s + (v - anchor.data[i]!) ** 2, 0));
    };
    expect(await distance(5)).toBeLessThan(0.9 * (await distance(0)));
  });

  it('trains with SGD + momentum, the poly schedule, group norm, two channels and three classes', async () => {
    const model = createSegmentationModel(
      small({ normalization: 'group', groupNormGroups: 2, inChannels: 2, numClasses: 3 }),
      1,
    );
    const volume = spherePhantom({ shape: [8, 8, 8], radius: 3, innerRadius: 1.5, channels: 2 });
    const progress: number[] = [];
    const result = await trainLocal(
      model,
      [volume],
      training({
        epochs: 8,
        optimizer: 'sgd',
        lrSchedule: 'poly',
        learningRate: 0.05,
        classWeights: [0.5, 1, 2],
      }),
      {
        onProgress: (p) => progress.push(p.epoch),
      },
    );
    expect(progress).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(result).toMatchObject({ samples: 1, steps: 8 });
    expect(result.lastEpochLoss).toBeLessThan(result.firstEpochLoss);
    model.dispose();
  });

  it('draws fresh samples every epoch when given a function', async () => {
    const model = createSegmentationModel(small(), 1);
    const epochs: number[] = [];
    const result = await trainLocal(
      model,
      (epoch) => {
        epochs.push(epoch);
        return [
          spherePhantom({ shape: [8, 8, 8], radius: 2.5, seed: epoch + 1 }),
          spherePhantom({ shape: [8, 8, 8], radius: 2, seed: epoch + 9 }),
        ];
      },
      training({ epochs: 3, batchSize: 2 }),
    );
    expect(epochs).toEqual([0, 1, 2]);
    expect(result).toMatchObject({ samples: 2, steps: 3 });
    model.dispose();
  });

  it('stops at the next step when aborted, with a named error', async () => {
    const model = createSegmentationModel(small(), 1);
    const controller = new AbortController();
    const volume = spherePhantom({ shape: [8, 8, 8], radius: 2.5 });
    const run = trainLocal(model, [volume], training({ epochs: 50 }), {
      onProgress: (p) => p.epoch === 1 && controller.abort(),
      signal: controller.signal,
    });
    await expect(run).rejects.toBeInstanceOf(TrainingAbortedError);
    model.dispose();
  });

  it('refuses samples that do not fit the network, saying why', async () => {
    const model = createSegmentationModel(small(), 1);
    const good = spherePhantom({ shape: [8, 8, 8], radius: 2 });
    const thin = spherePhantom({ shape: [8, 8, 1], radius: 2 });
    await expect(trainLocal(model, [thin], training())).rejects.toThrow(/axis z.*at least 2/);
    await expect(
      trainLocal(model, [{ ...good, label: good.label.map(() => 4) }], training()),
    ).rejects.toThrow(SampleShapeError);
    await expect(trainLocal(model, [{ ...good, channels: 2 }], training())).rejects.toThrow(
      /2 channel\(s\) but the model takes 1/,
    );
    model.dispose();
  });
});
