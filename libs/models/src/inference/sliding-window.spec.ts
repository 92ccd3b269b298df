import * as tf from '@tensorflow/tfjs-core';
import { ModelConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { SampleShapeError } from '../errors';
import { createSegmentationModel } from '../model/segmentation-model';
import { spherePhantom } from '../testing/sphere-phantom';
import { gaussianImportance } from './gaussian-importance';
import {
  argmaxLabels,
  predictLabels,
  predictProbabilities,
  windowStarts,
  type SlidingWindowProgress,
} from './sliding-window';

/**
 * The slow obvious sliding window (test reference): every window on its own (batch 1), the Gaussian written out
 * as exp(-d^2 / (2 sigma^2)) with sigma = size / 8 per axis (nnU-Net), float64 sums, then divided by the summed
 * weights. Window starts written out for each case, not taken from windowStarts.
 */
function slowSlidingWindow(
  model: ReturnType<typeof createSegmentationModel>,
  image: Float32Array,
  shape: [number, number, number],
  window: [number, number, number],
  starts: [number[], number[], number[]],
): Float64Array {
  const [nx, ny, nz] = shape;
  const [wx, wy, wz] = window;
  const k = model.config.numClasses;
  const sum = new Float64Array(nx * ny * nz * k);
  const weight = new Float64Array(nx * ny * nz);
  const gauss = (i: number, size: number): number => {
    const sigma = size / 8;
    return Math.exp(-((i - (size - 1) / 2) ** 2) / (2 * sigma * sigma));
  };
  const peak = gauss((wx - 1) / 2, wx) * gauss((wy - 1) / 2, wy) * gauss((wz - 1) / 2, wz);
  for (const oz of starts[2])
    for (const oy of starts[1])
      for (const ox of starts[0]) {
        const patch = new Float32Array(wx * wy * wz);
        for (let z = 0; z < wz; z++)
          for (let y = 0; y < wy; y++)
            for (let x = 0; x < wx; x++)
              if (x + ox < nx && y + oy < ny && z + oz < nz)
                patch[x + wx * (y + wy * z)] = image[x + ox + nx * (y + oy + ny * (z + oz))]!;
        const p = tf.tidy(() =>
          tf.softmax(model.network.predict(tf.tensor5d(patch, [1, wz, wy, wx, 1])) as tf.Tensor).dataSync(),
        );
        for (let z = 0; z < wz && z + oz < nz; z++)
          for (let y = 0; y < wy && y + oy < ny; y++)
            for (let x = 0; x < wx && x + ox < nx; x++) {
              const g = (gauss(x, wx) * gauss(y, wy) * gauss(z, wz)) / peak;
              const v = x + ox + nx * (y + oy + ny * (z + oz));
              weight[v] += g;
              for (let c = 0; c < k; c++) sum[v * k + c] += g * p[(x + wx * (y + wy * z)) * k + c]!;
            }
      }
  return sum.map((s, i) => s / weight[Math.floor(i / k)]!);
}

describe('windowStarts', () => {
  it('spreads the fewest windows evenly from edge to edge (nnU-Net compute_steps_for_sliding_window)', () => {
    // Hand-worked: steps = ceil((n - w) / (w / 2)) + 1, stride (n - w) / (steps - 1), starts rounded.
    expect(windowStarts(160, 32, 0.5)).toEqual([0, 16, 32, 48, 64, 80, 96, 112, 128]);
    expect(windowStarts(10, 4, 0.5)).toEqual([0, 2, 4, 6]);
    expect(windowStarts(11, 4, 0.5)).toEqual([0, 2, 4, 5, 7]); // stride 1.75
    expect(windowStarts(7, 8, 0.5)).toEqual([0]);
    expect(windowStarts(12, 8, 0)).toEqual([0, 4]);
  });
});

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

  it('matches the slow obvious version, whatever the batch size, and reports progress per batch', async () => {
    const model = createSegmentationModel(ModelConfig.parse({ baseFilters: 2, depth: 2, numClasses: 3 }), 5);
    const volume = spherePhantom({ shape: [11, 7, 6], radius: 2.5, innerRadius: 1, seed: 4 });
    // Window 4x4x4 (divisor 2): x starts 0,2,4,5,7; y 0,2,3 (stride 1.5); z 0,2.
    const slow = slowSlidingWindow(
      model,
      volume.image,
      volume.shape,
      [4, 4, 4],
      [
        [0, 2, 4, 5, 7],
        [0, 2, 3],
        [0, 2],
      ],
    );
    for (const batchSize of [1, 4, 30]) {
      const progress: SlidingWindowProgress[] = [];
      const probs = await predictProbabilities(model, volume.image, volume.shape, 1, {
        windowSize: [4, 4, 4],
        batchSize,
        onProgress: (p) => progress.push(p),
      });
      expect(Math.max(...probs.map((p, i) => Math.abs(p - slow[i]!)))).toBeLessThan(1e-5);
      expect(progress.length).toBe(Math.ceil(30 / batchSize));
      expect(progress.at(-1)).toEqual({ done: 30, total: 30 });
    }
    model.dispose();
  });

  it('turns the event loop between batches, so a socket heartbeat is not starved by a long volume', async () => {
    const model = createSegmentationModel(ModelConfig.parse({ baseFilters: 2, depth: 2 }), 5);
    const volume = spherePhantom({ shape: [12, 12, 12], radius: 4 });
    // One tick per turn of the event loop (each turn also polls I/O, where socket.io's ping/pong lives).
    let ticks = 0;
    let running = true;
    const spin = (): void => {
      ticks++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    let batches = 0;
    await predictProbabilities(model, volume.image, volume.shape, 1, {
      windowSize: [4, 4, 4],
      batchSize: 5,
      onProgress: () => batches++,
    });
    running = false;
    // 5 x 5 x 5 windows in batches of 5: 25 batches, each followed by a turn of the event loop.
    expect(batches).toBe(25);
    expect(ticks).toBeGreaterThanOrEqual(24);
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
