import path from 'node:path';
import {
  generateConsortium,
  loadCase,
  loadDataset,
  samplePatches,
  splitCases,
  zScoreNormalize,
  type Volume,
} from '@fedseg/imaging';
import type { EvaluationCase, TrainingSample } from '@fedseg/models';
import type { TrainingConfig } from '@fedseg/protocol';
import type { ExperimentOptions } from './experiment-options';

export interface SiteSplit {
  name: string;
  /** Normalised training volumes with labels (the only data any method trains on). */
  train: { volume: Volume; label: Uint8Array }[];
  /** Held-out test cases, whole volumes with their spacing. */
  test: EvaluationCase[];
  /** This epoch's training patches: one per training case, seeded by (site, round, epoch, case). */
  patches(training: TrainingConfig, round: number, epoch: number): TrainingSample[];
}

/**
 * Writes the synthetic consortium under `dataDir`, reads it back like an agent does (MSD folder, z-score
 * normalisation) and splits every site into train and held-out test cases.
 */
export async function loadConsortium(options: ExperimentOptions, dataDir: string): Promise<SiteSplit[]> {
  const { siteDirs } = await generateConsortium({
    outDir: dataDir,
    sites: options.sites,
    casesPerSite: options.casesPerSite,
    shape: options.shape,
    seed: options.seed,
    heterogeneity: options.heterogeneity,
  });
  const sites: SiteSplit[] = [];
  for (const [s, dir] of siteDirs.entries()) {
    const dataset = await loadDataset(dir);
    const split = splitCases(dataset, options.testFraction, options.seed + s);
    const load = async (id: string) => {
      const { image, label } = await loadCase(dataset, id);
      return { volume: zScoreNormalize(image), label };
    };
    const train = await Promise.all(split.train.map(load));
    const test = (await Promise.all(split.val.map(load))).map(({ volume, label }): EvaluationCase => ({
      image: volume.data,
      label,
      shape: volume.shape,
      channels: volume.channels,
      spacingMm: volume.spacingMm,
    }));
    sites.push({
      name: `site-${s + 1}`,
      train,
      test,
      patches: (training, round, epoch) =>
        train.flatMap((c, i) =>
          samplePatches(c.volume, c.label, {
            patchSize: training.patchSize,
            count: 1,
            foregroundRatio: options.foregroundRatio,
            seed: ((options.seed * 1_000_003 + s * 100_003 + round * 1_009 + epoch * 31 + i) >>> 0) % 2 ** 31,
          }).map((p) => ({ image: p.image, label: p.label, shape: p.shape, channels: c.volume.channels })),
        ),
    });
  }
  return sites;
}

export function siteDataDir(outDir: string): string {
  return path.join(outDir, 'data');
}
