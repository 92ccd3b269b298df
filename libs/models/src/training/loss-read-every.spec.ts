import { ModelConfig, TrainingConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { createSegmentationModel } from '../model/segmentation-model';
import { spherePhantom } from '../testing/sphere-phantom';
import { getFlatWeights, readFlatWeights } from '../weights/flat-weights';
import { trainLocal } from './train-local';

jest.setTimeout(120_000);

describe('reading the loss every N steps (GPU-friendly) and reading weights asynchronously', () => {
  beforeAll(async () => {
    await initBackend('wasm', { fastKernels: false });
  });

  it('gives the same weights and losses as reading every step, and reports a loss only when read', async () => {
    const config = ModelConfig.parse({ architecture: 'unet3d', baseFilters: 2, depth: 2 });
    const training = TrainingConfig.parse({
      epochs: 2,
      batchSize: 1,
      learningRate: 0.01,
      patchSize: [8, 8, 8],
      seed: 4,
    });
    const volumes = [1, 2, 3, 4, 5].map((seed) =>
      spherePhantom({ shape: [8, 8, 8], radius: 3, noise: 0.1, seed }),
    );

    const everyStep = createSegmentationModel(config, 7);
    const a = await trainLocal(everyStep, volumes, training, { lossReadEvery: 1 });
    const batched = createSegmentationModel(config, 7);
    const reported: Array<number | undefined> = [];
    const b = await trainLocal(batched, volumes, training, {
      lossReadEvery: 3,
      onProgress: (p) => reported.push(p.loss),
    });

    expect(b.meanLoss).toBeCloseTo(a.meanLoss, 6);
    expect(b.lastEpochLoss).toBeCloseTo(a.lastEpochLoss, 6);
    // 5 steps per epoch, read after steps 3 and 5 of each epoch.
    expect(reported.map((l) => l !== undefined)).toEqual([
      false,
      false,
      true,
      false,
      true,
      false,
      false,
      true,
      false,
      true,
    ]);

    const sync = getFlatWeights(batched);
    const async = await readFlatWeights(batched);
    expect(async.manifest).toEqual(sync.manifest);
    expect(Buffer.from(async.data.buffer).equals(Buffer.from(sync.data.buffer))).toBe(true);
    expect(Buffer.from(getFlatWeights(everyStep).data.buffer).equals(Buffer.from(sync.data.buffer))).toBe(
      true,
    );
    everyStep.dispose();
    batched.dispose();
  });
});
