import {
  loadCase,
  loadDataset,
  normalizeForPlan,
  samplePatches,
  splitCases,
  toPlanGrid,
  zScoreNormalize,
  type Volume,
} from '@fedseg/imaging';
import type { EvaluationCase, TrainingSample } from '@fedseg/models';
import { canonicalJson, type DataPlan, type SiteFingerprint, type TrainingConfig } from '@fedseg/protocol';
import { dataFingerprint, type FingerprintOptions } from './data-fingerprint';

/** A case as read from disk: raw intensities at its own spacing (never sent anywhere). */
interface RawCase {
  volume: Volume;
  label: Uint8Array;
}

/** The site's training data as one study plan wants it. */
export interface PlanView {
  train: TrainingSample[];
  /** Draws this epoch's training patches (fresh, seeded, foreground-oversampled). */
  epochSampler(training: TrainingConfig, round: number): (epoch: number) => TrainingSample[];
  /**
   * Validation cases for evaluateSegmentation. With a data plan: raw intensities at native spacing, to be given
   * with `planGrid` (the evaluation resamples, normalizes and measures back in native space); without one:
   * z-scored at native spacing, as before plans existed.
   */
  val: EvaluationCase[];
}

/**
 * The site's data. It never leaves this process: only sample counts and aggregate metrics computed from it do.
 * Cases are read once, raw; each study plan's view (resampled, cropped, normalized) is derived on first use and
 * kept, so rounds do not redo the resampling.
 */
export interface SiteData extends PlanView {
  trainCases: number;
  valCases: number;
  /**
   * The view for a study's data plan (issue 18); `undefined`: native spacing, per-case z-score, which is also
   * what `train`, `val` and `epochSampler` on SiteData itself give (derived on first use; bench/ reads them).
   */
  forPlan(plan: DataPlan | undefined): PlanView;
  /** The training cases' fingerprint (data-fingerprint.ts), what `fedseg-agent fingerprint` prints. */
  fingerprint(options: FingerprintOptions): Promise<SiteFingerprint>;
}

/** Without a data plan: share of patches centred on foreground (our phantoms' lesions are small, so above 1/3). */
const LEGACY_FOREGROUND_RATIO = 0.5;

export async function loadSiteData(
  dir: string,
  options: { valFraction: number; seed: number },
): Promise<SiteData> {
  const dataset = await loadDataset(dir);
  const split = splitCases(dataset, options.valFraction, options.seed);
  const load = async (caseId: string): Promise<RawCase> => {
    const { image, label } = await loadCase(dataset, caseId);
    return { volume: image, label };
  };
  const trainRaw: RawCase[] = [];
  for (const id of split.train) trainRaw.push(await load(id));
  const valRaw: RawCase[] = [];
  for (const id of split.val) valRaw.push(await load(id));
  const views = new Map<string, PlanView>();
  const data: SiteData = {
    trainCases: trainRaw.length,
    valCases: valRaw.length,
    get train() {
      return data.forPlan(undefined).train;
    },
    get val() {
      return data.forPlan(undefined).val;
    },
    epochSampler: (training, round) => data.forPlan(undefined).epochSampler(training, round),
    fingerprint: (fpOptions) =>
      dataFingerprint(
        dataset,
        trainRaw.length,
        async (i) => ({ image: trainRaw[i]!.volume, label: trainRaw[i]!.label }),
        fpOptions,
      ),
    forPlan(plan) {
      const key = plan ? canonicalJson(plan) : '';
      let view = views.get(key);
      if (!view) {
        view = plan
          ? planView(trainRaw, valRaw, plan, options.seed)
          : legacyView(trainRaw, valRaw, options.seed);
        views.set(key, view);
      }
      return view;
    },
  };
  return data;
}

const asCase = (volume: Volume, label: Uint8Array): EvaluationCase => ({
  image: volume.data,
  label,
  shape: volume.shape,
  channels: volume.channels,
  spacingMm: volume.spacingMm,
});

/**
 * A data plan's view (nnU-Net's preprocessing): crop to the body and resample image (trilinear) and label
 * (nearest) to the plan's spacing on the raw image (the crop looks for exact zeros, which normalization would
 * remove), then normalize per the plan's channel schemes; patches sample the plan's foreground oversampling.
 */
function planView(trainRaw: RawCase[], valRaw: RawCase[], plan: DataPlan, seed: number): PlanView {
  const train = trainRaw.map((c) => {
    const grid = toPlanGrid(c.volume, c.label, plan.targetSpacingMm);
    return { volume: normalizeForPlan(grid.image, plan.normalization), label: grid.label! };
  });
  return {
    train: train.map((c) => asCase(c.volume, c.label)),
    val: valRaw.map((c) => asCase(c.volume, c.label)),
    epochSampler: sampler(train, plan.foregroundOversampling, seed),
  };
}

function legacyView(trainRaw: RawCase[], valRaw: RawCase[], seed: number): PlanView {
  const normalized = (c: RawCase): RawCase => ({ volume: zScoreNormalize(c.volume), label: c.label });
  const train = trainRaw.map(normalized);
  return {
    train: train.map((c) => asCase(c.volume, c.label)),
    val: valRaw.map(normalized).map((c) => asCase(c.volume, c.label)),
    epochSampler: sampler(train, LEGACY_FOREGROUND_RATIO, seed),
  };
}

function sampler(cases: RawCase[], foregroundRatio: number, seed: number): PlanView['epochSampler'] {
  return (training, round) => (epoch) =>
    cases.flatMap((c, i) =>
      samplePatches(c.volume, c.label, {
        patchSize: training.patchSize,
        count: 1,
        foregroundRatio,
        seed: seed * 1_000_003 + training.seed * 10_007 + round * 101 + epoch * 7 + i,
      }).map((p) => ({ image: p.image, label: p.label, shape: p.shape, channels: c.volume.channels })),
    );
}
