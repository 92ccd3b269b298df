import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { SampleShapeError } from '../errors';
import { createSegmentationModel } from '../model/segmentation-model';
import { spherePhantom } from '../testing/sphere-phantom';
import { gaussianImportance } from './gaussian-importance';
import { argmaxLabels, predictLabels, predictProbabilities } from './sliding-window';

describe('gaussianImportance', () => {
  it('peaks at 1 in the centre, is symmetric and never zero', () => {
    const g = gaussianImportance([5, 4, 3]);
    const at = (x: number, y: number, z: number): number => g[(z * 4 + y) * 5 + x]!;
    expect(at(2, 1, 1)).toBeLessThanOrEqual(1);
    expect(Math.max(...g)).toBe(1);
    expect(at(0, 0, 0)).toBeCloseTo(at(4, 3, 2), 7);
    expect(at(0, 1, 1)).toBeLessThan(at(1, 1, 1));
    expect(Math.min(...g)).toBeGreaterThan(0);
  });
});

describe('sliding-window inference', () => {
  beforeAll(async () => {
    await initBackend('wasm', { fastKernels: false });
  });

  it('with one window covering the volume equals a single forward pass', async () => {
    const model = createSegmentationModel(ModelConfig.parse({ baseFilters: 2, depth: 2 }), 3);
    const volume = spherePhantom({ shape: [8, 6, 4], radius: 2 });
    const probs = await predictProbabilities(model, volume.image, volume.shape, 1);
    const direct = tf.tidy(() =>
      tf.softmax(model.network.predict(tf.tensor5d(volume.image, [1, 4, 6, 8, 1])) as tf.Tensor).dataSync(),
    );
    // Equal up to the float32 rounding of (g * p) / g.
    expect(probs.length).toBe(direct.length);
    expect(Math.max(...probs.map((p, i) => Math.abs(p - direct[i]!)))).toBeLessThan(1e-6);
    model.dispose();
  });

  it('stitches overlapping windows over an odd-shaped volume into normalized probabilities', async () => {
    const model = createSegmentationModel(ModelConfig.parse({ baseFilters: 2, depth: 3, numClasses: 3 }), 3);
    const volume = spherePhantom({ shape: [13, 9, 11], radius: 3, innerRadius: 1.5 });
    const probs = await predictProbabilities(model, volume.image, volume.shape, 1, {
      windowSize: [8, 4, 8],
      overlap: 0.5,
    });
    expect(probs.length).toBe(13 * 9 * 11 * 3);
    for (let v = 0; v < probs.length; v += 3)
      expect(probs[v]! + probs[v + 1]! + probs[v + 2]!).toBeCloseTo(1, 5);
    const labels = await predictLabels(model, volume.image, volume.shape, 1, { windowSize: [8, 4, 8] });
    expect(labels).toEqual(argmaxLabels(probs, 3));
    model.dispose();
  });

  it('infers with windows of the training patch size, rounded to the divisor and no larger than the volume', async () => {
    const model = createSegmentationModel(ModelConfig.parse({ baseFilters: 2, depth: 3 }), 3);
    const volume = spherePhantom({ shape: [13, 9, 11], radius: 3 });
    const predict = (options: Parameters<typeof predictProbabilities>[4]) =>
      predictProbabilities(model, volume.image, volume.shape, 1, options);
    // Divisor 4: a 10-voxel patch trains as 8 (cropped); the 9-voxel y axis pads to 12, never beyond.
    expect(await predict({ patchSize: [10, 16, 8] })).toEqual(await predict({ windowSize: [8, 12, 8] }));
    // A patch larger than the volume: one window over the padded volume, the default.
    expect(await predict({ patchSize: [32, 32, 32] })).toEqual(await predict({}));
    model.dispose();
  });

  it('pads volumes that are not a multiple of 2^(depth-1) and refuses a bad window size', async () => {
    const model = createSegmentationModel(ModelConfig.parse({ baseFilters: 2, depth: 3 }), 3);
    const volume = spherePhantom({ shape: [5, 7, 3], radius: 2 });
    expect(await predictLabels(model, volume.image, volume.shape, 1)).toHaveLength(5 * 7 * 3);
    await expect(
      (async () => predictLabels(model, volume.image, volume.shape, 1, { windowSize: [6, 8, 8] }))(),
    ).rejects.toThrow(SampleShapeError);
    model.dispose();
  });
});
