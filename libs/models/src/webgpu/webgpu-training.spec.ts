/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { ModelConfig, TrainingConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import { webGpuDeviceErrors } from '../backend/webgpu-backend';
import { diceScore } from '@fedseg/imaging';
import { createSegmentationModel, type SegmentationModel } from '../model/segmentation-model';
import { spherePhantom } from '../testing/sphere-phantom';
import { trainLocal } from '../training/train-local';
import { describeOnWebGpu } from './testing/webgpu-availability';

/**
 * Training on webgpu: no tensor or GPU-buffer leak over 50 steps, and the same Dice as the cpu backend after
 * a short run. Tiny volumes and networks: the adapter in CI is Mesa's software lavapipe.
 */
jest.setTimeout(120_000);

const tiny = (
  architecture: ModelConfig['architecture'],
  normalization: ModelConfig['normalization'],
): ModelConfig =>
  ModelConfig.parse({
    architecture,
    normalization,
    baseFilters: 4,
    depth: 2,
    groupNormGroups: 2,
    numClasses: 2,
  });

/**
 * Foreground Dice of the network's prediction on whole volumes, read with the asynchronous `data()`:
 * webgpu in Node has no synchronous readback (tfjs would need an OffscreenCanvas).
 */
async function foregroundDice(
  model: SegmentationModel,
  volumes: ReturnType<typeof spherePhantom>[],
): Promise<number> {
  let sum = 0;
  for (const v of volumes) {
    const [nx, ny, nz] = v.shape;
    const labels = tf.tidy(() =>
      tf.argMax(model.network.predict(tf.tensor5d(v.image, [1, nz, ny, nx, 1])) as tf.Tensor, -1),
    );
    const predicted = Uint8Array.from((await labels.data()) as Int32Array);
    labels.dispose();
    sum += diceScore(predicted, v.label, 1);
  }
  return sum / volumes.length;
}

describeOnWebGpu('training on webgpu', () => {
  afterAll(async () => {
    await initBackend('cpu');
  });

  it('runs 50 training steps with tf.memory() and the GPU buffers flat (no leak per step)', async () => {
    expect((await initBackend('webgpu')).name).toBe('webgpu');
    const backend = tf.backend() as WebGPUBackend;
    const model = createSegmentationModel(tiny('unet3d', 'batch'), 1);
    const volumes = [1, 2].map((seed) => spherePhantom({ shape: [8, 8, 8], radius: 2.5, noise: 0.1, seed }));
    const before = tf.memory();
    const samples: {
      step: number;
      read: boolean;
      tensors: number;
      bytes: number;
      gpuBytes: number;
      usedBuffers: number;
    }[] = [];
    // 2 volumes, batch 1: 2 steps per epoch, 25 epochs = 50 steps.
    await trainLocal(
      model,
      volumes,
      TrainingConfig.parse({ epochs: 25, batchSize: 1, learningRate: 0.01, patchSize: [8, 8, 8] }),
      {
        onProgress: (p) => {
          const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU: number };
          samples.push({
            step: p.epoch * p.steps + p.step,
            read: p.loss !== undefined,
            tensors: m.numTensors,
            bytes: m.numBytes,
            gpuBytes: m.numBytesInGPU,
            usedBuffers: backend.bufferManager.getNumUsedBuffers(),
          });
        },
      },
    );
    expect(samples).toHaveLength(50);
    // From step 5 on (optimizer moments allocated at step 1), every step whose loss was read back ends with the
    // same tensors and bytes; between reads only the unread loss scalars (at most lossReadEvery) are held.
    const steady = samples.slice(4).filter((s) => s.read);
    expect(steady.length).toBeGreaterThan(10);
    const held = samples.slice(4).map((s) => s.tensors - steady[0]!.tensors);
    expect(Math.max(...held)).toBeLessThanOrEqual(10);
    expect(new Set(steady.map((s) => s.tensors)).size).toBe(1);
    expect(new Set(steady.map((s) => s.bytes)).size).toBe(1);
    expect(new Set(steady.map((s) => s.gpuBytes)).size).toBe(1);
    // GPU buffers in use: tfjs recycles them through a pool; a leak shows as growth step after step.
    expect(steady[steady.length - 1]!.usedBuffers).toBeLessThanOrEqual(steady[0]!.usedBuffers);
    // And the optimizer state and step temporaries are all released when the run ends.
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(webGpuDeviceErrors().count).toBe(0);
    model.dispose();
  });

  // One architecture keeps the suite short on a software adapter; every architecture's forward pass and
  // gradients are compared with cpu in webgpu-parity.spec.ts.
  it.each([['unet3d', 'instance']] as const)(
    '%s (%s norm): a short training run reaches the cpu backend’s Dice within 0.02',
    async (architecture, normalization) => {
      const volumes = [11, 12, 13, 14].map((seed) =>
        spherePhantom({
          shape: [8, 8, 8],
          radius: 2.5 + 0.5 * (seed % 2),
          centre: [3 + (seed % 3) * 0.5, 3.5, 4],
          noise: 0.3,
          seed,
        }),
      );
      // 4 volumes, batch 2, 12 epochs: 24 Adam steps.
      const config = TrainingConfig.parse({
        epochs: 12,
        batchSize: 2,
        learningRate: 0.01,
        patchSize: [8, 8, 8],
        seed: 5,
      });
      const dice: Record<string, number> = {};
      for (const backend of ['cpu', 'webgpu'] as const) {
        expect((await initBackend(backend, { fastKernels: false })).name).toBe(backend);
        const model = createSegmentationModel(tiny(architecture, normalization), 3);
        await trainLocal(model, volumes, config);
        dice[backend] = await foregroundDice(model, volumes);
        model.dispose();
      }
      if (process.env['FEDSEG_PRINT_PARITY']) console.log(architecture, dice);
      // A run that learned nothing would agree trivially: both must have learned the spheres.
      expect(dice['cpu']).toBeGreaterThan(0.8);
      expect(Math.abs(dice['webgpu']! - dice['cpu']!)).toBeLessThanOrEqual(0.02);
      expect(webGpuDeviceErrors().count).toBe(0);
    },
  );
});
