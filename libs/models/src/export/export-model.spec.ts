import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ModelConfig, TrainingConfig } from '@fedseg/protocol';
import { initBackend } from '../backend/init-backend';
import type { TrainingSample } from '../data/training-sample';
import { evaluateSegmentation } from '../inference/evaluate-segmentation';
import { predictLabels } from '../inference/sliding-window';
import { defaultModelConfig } from '../model/default-configs';
import { createSegmentationModel, type SegmentationModel } from '../model/segmentation-model';
import { spherePhantom } from '../testing/sphere-phantom';
import { trainLocal } from '../training/train-local';
import { seededRandom } from '../util/seeded-random';
import { getFlatWeights } from '../weights/flat-weights';
import { exportFlatWeights, exportModel, saveExportedModel } from './export-model';
import { loadExportedModel } from './load-exported-model';

/**
 * Export round trips on validation data: a small 3D U-Net trained on synthetic sphere phantoms (random
 * centre and radius, noise 0.1), validated on 16^3 phantoms it never saw, segmented by sliding window.
 */
jest.setTimeout(240_000);

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const WINDOW: [number, number, number] = [12, 12, 12];

function phantoms(count: number, shape: [number, number, number], seed: number): TrainingSample[] {
  const rng = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const radius = 2.5 + 1.5 * rng.next();
    const centre = shape.map((n) => radius + 1 + rng.next() * (n - 2 * radius - 3)) as [
      number,
      number,
      number,
    ];
    return spherePhantom({ shape, centre, radius, noise: 0.1, seed: seed * 100 + i });
  });
}

describe('exportModel', () => {
  let model: SegmentationModel;
  let dir: string;
  const validation = phantoms(3, [16, 16, 16], 7);

  beforeAll(async () => {
    await initBackend('wasm', { fastKernels: false });
    dir = mkdtempSync(join(tmpdir(), 'fedseg-export-'));
    model = createSegmentationModel(
      ModelConfig.parse({ architecture: 'unet3d', baseFilters: 4, depth: 2 }),
      1,
    );
    await trainLocal(
      model,
      phantoms(4, [12, 12, 12], 3),
      TrainingConfig.parse({ epochs: 40, batchSize: 4, learningRate: 0.02, patchSize: WINDOW }),
    );
  });

  afterAll(() => {
    model.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reloads in a fresh process with plain tfjs and predicts identical labels', async () => {
    const fp32Dir = join(dir, 'fp32');
    await saveExportedModel(fp32Dir, await exportModel(model));
    const json = JSON.parse(readFileSync(join(fp32Dir, 'model.json'), 'utf8')) as {
      format: string;
      modelTopology: unknown;
    };
    expect(json.format).toBe('layers-model');
    const volume = validation[0]!;
    const expected = await predictLabels(model, volume.image, volume.shape, 1, { windowSize: WINDOW });

    const reloaded = await loadExportedModel(fp32Dir);
    expect(reloaded.config).toEqual(model.config);
    expect(
      Buffer.from(getFlatWeights(reloaded).data.buffer).equals(
        Buffer.from(getFlatWeights(model).data.buffer),
      ),
    ).toBe(true);
    expect(await predictLabels(reloaded, volume.image, volume.shape, 1, { windowSize: WINDOW })).toEqual(
      expected,
    );
    reloaded.dispose();

    const imagePath = join(dir, 'image.f32');
    const labelsPath = join(dir, 'labels.u8');
    writeFileSync(imagePath, volume.image);
    const child = spawnSync(
      process.execPath,
      [
        'scripts/run-ts.js',
        'libs/models/scripts/predict-exported.ts',
        fp32Dir,
        imagePath,
        ...volume.shape.map(String),
        '1',
        labelsPath,
        WINDOW.join(','),
      ],
      { cwd: ROOT, env: { ...process.env, FEDSEG_FAST_KERNELS: '0' }, encoding: 'utf8', timeout: 120_000 },
    );
    expect(child.stderr.split('\n').filter((l) => /error/i.test(l))).toEqual([]);
    expect(child.status).toBe(0);
    const fresh = new Uint8Array(readFileSync(labelsPath));
    expect(fresh).toEqual(expected);
    expect(expected.some((l) => l === 1)).toBe(true);
  });

  it('writes an 8-bit variant about 4x smaller whose Dice is within 0.01 of float32', async () => {
    const fp32 = await saveExportedModel(join(dir, 'a'), await exportModel(model));
    const uint8 = await saveExportedModel(join(dir, 'b'), await exportModel(model, 'uint8'));
    expect(fp32.weightsBytes).toBe(4 * getFlatWeights(model).data.length);
    expect(fp32.weightsBytes / uint8.weightsBytes).toBe(4);
    expect(statSync(join(dir, 'b', 'weights.uint8.bin')).size).toBe(uint8.weightsBytes);
    const total = (s: { modelJsonBytes: number; weightsBytes: number }): number =>
      s.modelJsonBytes + s.weightsBytes;

    const quantized = await loadExportedModel(join(dir, 'b'));
    const reference = await evaluateSegmentation(model, validation, { windowSize: WINDOW });
    const eight = await evaluateSegmentation(quantized, validation, { windowSize: WINDOW });
    quantized.dispose();
    if (process.env['FEDSEG_PRINT_FIGURES']) {
      console.log({
        fp32,
        uint8,
        ratioWeights: fp32.weightsBytes / uint8.weightsBytes,
        ratioTotal: total(fp32) / total(uint8),
        diceFp32: reference.dice,
        diceUint8: eight.dice,
      });
    }
    expect(reference.dice).toBeGreaterThan(0.8);
    expect(Math.abs(eight.dice - reference.dice)).toBeLessThan(0.01);
  });

  it('exports from a config and flat weights alone, FedBN vectors included', async () => {
    const full = await exportFlatWeights(model.config, getFlatWeights(model));
    expect(Buffer.from(full.weightsBin).equals(Buffer.from((await exportModel(model)).weightsBin))).toBe(
      true,
    );
    const shared = await exportFlatWeights(
      model.config,
      getFlatWeights(model, { excludeNormalization: true }),
    );
    expect(shared.weightsBin.byteLength).toBe(full.weightsBin.byteLength);
  });

  it('makes the default CPU U-Net more than 3x smaller on disk, model.json included', async () => {
    const cpuDefault = createSegmentationModel(defaultModelConfig('unet3d', 'cpu'), 0);
    const fp32 = await exportModel(cpuDefault);
    const uint8 = await exportModel(cpuDefault, 'uint8');
    cpuDefault.dispose();
    const size = (e: { modelJson: string; weightsBin: Uint8Array }): number =>
      Buffer.byteLength(e.modelJson) + e.weightsBin.byteLength;
    expect(fp32.weightsBin.byteLength).toBe(4 * 85_346);
    expect(uint8.weightsBin.byteLength).toBe(85_346);
    expect(size(fp32) / size(uint8)).toBeGreaterThan(3);
  });
});
