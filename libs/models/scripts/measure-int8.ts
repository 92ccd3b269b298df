/**
 * Measures the 8-bit export against float32 on demo-like data (not a test: it trains for a minute).
 * `node scripts/run-ts.js libs/models/scripts/measure-int8.ts [epochs]`
 * Data: libs/imaging's phantom cases for the demo's four synthetic sites (32^3, organ + lesion, 3 classes),
 * 6 training and 2 validation cases per site, z-score normalized as the agent does. Model: the demo's study
 * model (unet3d, base 4, depth 3, instance norm). Prints sizes, validation Dice for both, and one JSON line.
 */
import { createRng, derivePhantomSites, phantomCase, zScoreNormalize } from '@fedseg/imaging';
import { ModelConfig, TrainingConfig } from '@fedseg/protocol';
import {
  createSegmentationModel,
  evaluateSegmentation,
  exportModel,
  initBackend,
  trainLocal,
  type TrainingSample,
} from '../src';
import { loadExportedModel } from '../src/export/load-exported-model';
import { saveExportedModel } from '../src/export/export-model';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

async function main(): Promise<void> {
  const epochs = Number(process.argv[2] ?? 12);
  const backend = await initBackend('auto');
  const rng = createRng(7);
  const train: TrainingSample[] = [];
  const val: TrainingSample[] = [];
  for (const profile of derivePhantomSites(4, 7, 1)) {
    for (let i = 0; i < 8; i++) {
      const { image, label } = phantomCase(profile, [32, 32, 32], 1, rng);
      const v = zScoreNormalize(image);
      (i < 6 ? train : val).push({ image: v.data, label, shape: v.shape, channels: v.channels });
    }
  }
  const model = createSegmentationModel(
    ModelConfig.parse({
      architecture: 'unet3d',
      inChannels: 1,
      numClasses: 3,
      baseFilters: 4,
      depth: 3,
      normalization: 'instance',
    }),
    1,
  );
  const started = Date.now();
  const result = await trainLocal(
    model,
    train,
    TrainingConfig.parse({ epochs, batchSize: 2, learningRate: 5e-3, patchSize: [32, 32, 32], seed: 1 }),
  );
  const trainSeconds = (Date.now() - started) / 1000;
  const dir = mkdtempSync(join(tmpdir(), 'fedseg-int8-'));
  const fp32 = await saveExportedModel(join(dir, 'fp32'), await exportModel(model));
  const uint8 = await saveExportedModel(join(dir, 'uint8'), await exportModel(model, 'uint8'));
  const reference = await evaluateSegmentation(await loadExportedModel(join(dir, 'fp32')), val);
  const eight = await evaluateSegmentation(await loadExportedModel(join(dir, 'uint8')), val);
  rmSync(dir, { recursive: true, force: true });
  const figures = {
    backend: backend.name,
    epochs,
    trainSeconds,
    trainLoss: [result.firstEpochLoss, result.lastEpochLoss],
    weightsBytes: { fp32: fp32.weightsBytes, uint8: uint8.weightsBytes },
    totalBytes: {
      fp32: fp32.weightsBytes + fp32.modelJsonBytes,
      uint8: uint8.weightsBytes + uint8.modelJsonBytes,
    },
    dice: { fp32: reference.dice, uint8: eight.dice, difference: eight.dice - reference.dice },
    perClassDice: { fp32: reference.perClassDice, uint8: eight.perClassDice },
  };
  console.log(
    `backend ${backend.name}; ${epochs} epochs on ${train.length} cases in ${trainSeconds.toFixed(0)} s, loss ${result.firstEpochLoss.toFixed(3)} -> ${result.lastEpochLoss.toFixed(3)}`,
  );
  console.log(
    `weights: fp32 ${fp32.weightsBytes} B, uint8 ${uint8.weightsBytes} B (${(fp32.weightsBytes / uint8.weightsBytes).toFixed(2)}x); with model.json ${(figures.totalBytes.fp32 / figures.totalBytes.uint8).toFixed(2)}x`,
  );
  console.log(
    `validation Dice (${val.length} cases): fp32 ${reference.dice.toFixed(4)}, uint8 ${eight.dice.toFixed(4)}, difference ${figures.dice.difference.toFixed(4)}`,
  );
  console.log(JSON.stringify(figures));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
