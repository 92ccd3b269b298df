import {
  loadCase,
  loadDataset,
  samplePatches,
  splitCases,
  zScoreNormalize,
  type Volume,
} from '@fedseg/imaging';
import type { EvaluationCase, TrainingSample } from '@fedseg/models';
import type { TrainingConfig } from '@fedseg/protocol';

/**
 * The site's data, loaded and normalised once. It never leaves this process: only sample counts and
 * aggregate metrics computed from it do.
 */
export interface SiteData {
  train: TrainingSample[];
  val: EvaluationCase[];
  /** Draws this epoch's training patches (fresh, seeded, foreground-oversampled). */
  epochSampler(training: TrainingConfig, round: number): (epoch: number) => TrainingSample[];
}

/** Share of patches centred on foreground (nnU-Net uses 0.33; our phantoms' lesions are small, so more). */
const FOREGROUND_RATIO = 0.5;

export async function loadSiteData(
  dir: string,
  options: { valFraction: number; seed: number },
): Promise<SiteData> {
  const dataset = await loadDataset(dir);
  const split = splitCases(dataset, options.valFraction, options.seed);
  const load = async (caseId: string): Promise<{ volume: Volume; label: Uint8Array }> => {
    const { image, label } = await loadCase(dataset, caseId);
    return { volume: zScoreNormalize(image), label };
  };
  const trainCases = await Promise.all(split.train.map(load));
  const valCases = await Promise.all(split.val.map(load));
  const asSample = (c: { volume: Volume; label: Uint8Array }): EvaluationCase => ({
    image: c.volume.data,
    label: c.label,
    shape: c.volume.shape,
    channels: c.volume.channels,
    spacingMm: c.volume.spacingMm,
  });
  return {
    train: trainCases.map(asSample),
    val: valCases.map(asSample),
    epochSampler: (training, round) => (epoch) =>
      trainCases.flatMap((c, i) =>
        samplePatches(c.volume, c.label, {
          patchSize: training.patchSize,
          count: 1,
          foregroundRatio: FOREGROUND_RATIO,
          seed: options.seed * 1_000_003 + training.seed * 10_007 + round * 101 + epoch * 7 + i,
        }).map((p) => ({ image: p.image, label: p.label, shape: p.shape, channels: c.volume.channels })),
      ),
  };
}
