import { DataPlan, type ChannelNormalization, type CombinedFingerprint } from '@fedseg/protocol';
import { FingerprintError } from './imaging-errors';

type Vec3 = [number, number, number];

/** The sizes that decide a U-Net's training memory (ModelConfig and TrainingConfig fields). */
export interface UNetSize {
  patchSize: readonly [number, number, number];
  depth: number;
  baseFilters: number;
  batchSize: number;
  inChannels: number;
  numClasses: number;
}

/**
 * Rough peak memory of one training step of fedseg's 3D U-Net (filters base * 2^level, two 3x3x3 convs per
 * level, each followed by a norm and ReLU), in MiB. Forward keeps 3 maps per conv (conv, norm, ReLU output): 6
 * maps of the level's filters per encoder level, 9 more per decoder level (upsampled, concatenated at twice the
 * filters, two convs); backward holds as much again. float32. Like nnU-Net's VRAM estimate it is meant for
 * comparing candidate patches against a budget, not as an exact figure; every planned field can be overridden.
 */
export function estimateTrainingMemoryMb(size: UNetSize): number {
  const voxels0 = size.patchSize[0] * size.patchSize[1] * size.patchSize[2];
  let maps = voxels0 * (size.inChannels + 3 * size.numClasses);
  for (let level = 0; level < size.depth; level++) {
    const voxels = voxels0 / 8 ** level;
    const filters = size.baseFilters * 2 ** level;
    maps += voxels * filters * (level < size.depth - 1 ? 15 : 6);
  }
  return (4 * size.batchSize * 2 * maps) / 2 ** 20;
}

/** Deepest U-Net whose bottleneck keeps at least 4 voxels per axis (nnU-Net's minimum feature map), 1..5. */
export function maxDepthForPatch(patch: readonly number[]): number {
  const levels = Math.min(...patch.map((n) => Math.floor(Math.log2(n / 4)))) + 1;
  return Math.min(5, Math.max(1, levels));
}

export interface PlanFromFingerprintOptions {
  /** Fields taken as given; the rest are derived around them (a given spacing changes the planned patch). */
  overrides?: Partial<DataPlan>;
  /** Largest patch edge considered, voxels. Default 128. */
  maxPatchEdge?: number;
}

export interface PlanDerivation {
  plan: DataPlan;
  /** Why each field has its value, one line each, for the researcher approving the plan. */
  reasons: string[];
  estimatedMemoryMb: number;
}

/**
 * nnU-Net's full-resolution target spacing (determine_fullres_target_spacing): the median spacing per axis,
 * except that a strongly anisotropic axis (spacing > 3x the others' and fewer than a third of their voxels) takes
 * the 10th percentile of its spacings, kept just above the other axes' largest spacing.
 */
export function targetSpacingFromFingerprint(fp: CombinedFingerprint): Vec3 {
  const target = [...fp.spacingMm.median] as Vec3;
  const size = fp.bodyShape.median;
  const worst = target.indexOf(Math.max(...target));
  const others = [0, 1, 2].filter((a) => a !== worst);
  const otherMax = Math.max(...others.map((a) => target[a]));
  const anisoSpacing = target[worst] > 3 * otherMax;
  const anisoVoxels = size[worst] * 3 < Math.min(...others.map((a) => size[a]));
  if (anisoSpacing && anisoVoxels) {
    const p10 = fp.spacingMm.p10[worst];
    target[worst] = p10 < otherMax ? Math.max(otherMax, p10) + 1e-5 : p10;
  }
  return target;
}

/**
 * The data plan from a combined fingerprint, nnU-Net's rules adapted to a federation:
 * - target spacing: targetSpacingFromFingerprint;
 * - patch: the median body shape at the target spacing (capped at maxPatchEdge), rounded up to the network's
 *   divisor, then shrunk one divisor step at a time on the axis largest relative to the median shape until
 *   estimateTrainingMemoryMb fits the smallest memory budget any site reported (nnU-Net's loop); the depth
 *   follows the patch (bottleneck of at least 4 voxels, at most 5 levels);
 * - base filters: 32 (nnU-Net) with a budget of 8 GiB or more, 16 from 2 GiB, else 8 (fedseg's CPU default);
 *   batch 2 (nnU-Net's minimum);
 * - normalization per channel: 'CT' clips to the pooled 0.5/99.5 percentiles and z-scores with the pooled
 *   foreground mean and std; every other modality is z-scored per case;
 * - foreground oversampling 1/3 (nnU-Net), 1/2 when the rarest foreground class is under 1% of the voxels.
 */
export function planFromFingerprint(
  fp: CombinedFingerprint,
  options: PlanFromFingerprintOptions = {},
): PlanDerivation {
  const o = options.overrides ?? {};
  const reasons: string[] = [];
  const given = (field: keyof DataPlan): void => {
    reasons.push(`${field}: given`);
  };
  const budget = fp.memoryBudgetMb;

  const targetSpacingMm = o.targetSpacingMm ?? targetSpacingFromFingerprint(fp);
  if (o.targetSpacingMm) given('targetSpacingMm');
  else
    reasons.push(
      `targetSpacingMm: median case spacing ${fp.spacingMm.median.map(fmt).join('x')} mm (nnU-Net)`,
    );

  const baseFilters =
    o.baseFilters ?? (budget === undefined ? 8 : budget >= 8192 ? 32 : budget >= 2048 ? 16 : 8);
  if (o.baseFilters) given('baseFilters');
  else
    reasons.push(
      `baseFilters: ${baseFilters} for a budget of ${budget === undefined ? 'none reported' : `${budget} MiB`}`,
    );
  const batchSize = o.batchSize ?? 2;
  if (o.batchSize) given('batchSize');
  else reasons.push('batchSize: 2 (nnU-Net)');

  const medianShape = fp.bodyExtentMm.median.map((mm, a) =>
    Math.max(1, Math.round(mm / targetSpacingMm[a])),
  ) as Vec3;
  const size = (patchSize: Vec3, depth: number): number =>
    estimateTrainingMemoryMb({
      patchSize,
      depth,
      baseFilters,
      batchSize,
      inChannels: fp.modalities.length,
      numClasses: fp.numClasses,
    });
  let patchSize: Vec3;
  let depth: number;
  if (o.patchSize) {
    patchSize = [...o.patchSize];
    depth = o.depth ?? maxDepthForPatch(patchSize);
    const d = 2 ** (depth - 1);
    if (patchSize.some((n) => n % d !== 0))
      throw new FingerprintError(`patch ${patchSize.join('x')} is not a multiple of 2^(depth-1) = ${d}`);
    given('patchSize');
    reasons.push(o.depth ? 'depth: given' : `depth: ${depth}, bottleneck of at least 4 voxels`);
  } else {
    const maxEdge = options.maxPatchEdge ?? 128;
    patchSize = medianShape.map((n) => Math.min(n, maxEdge)) as Vec3;
    depth = o.depth ?? maxDepthForPatch(patchSize);
    const roundUp = (): void => {
      const d = 2 ** (depth - 1);
      patchSize = patchSize.map((n) => Math.max(d, Math.ceil(n / d) * d)) as Vec3;
    };
    roundUp();
    let fits = budget === undefined || size(patchSize, depth) <= budget;
    while (!fits) {
      const d = 2 ** (depth - 1);
      const candidates = [0, 1, 2].filter((a) => patchSize[a] - d >= d);
      if (candidates.length === 0) break;
      const axis = candidates.reduce((best, a) =>
        patchSize[a] / medianShape[a] > patchSize[best] / medianShape[best] ? a : best,
      );
      patchSize[axis] -= d;
      if (o.depth === undefined && depth > 1 && Math.min(...patchSize) / d < 4) {
        depth--;
        roundUp();
      }
      fits = size(patchSize, depth) <= budget!;
    }
    reasons.push(
      `patchSize: median body shape ${medianShape.join('x')} at the target spacing` +
        (budget === undefined
          ? ''
          : fits
            ? `, shrunk to fit ${budget} MiB`
            : `; the smallest patch still exceeds ${budget} MiB`),
    );
    reasons.push(o.depth ? 'depth: given' : `depth: ${depth}, bottleneck of at least 4 voxels`);
  }

  const normalization: ChannelNormalization[] =
    o.normalization ??
    fp.modalities.map((m) =>
      /^ct$/i.test(m.modality)
        ? { scheme: 'ct', clipLo: m.p00_5, clipHi: m.p99_5, mean: m.mean, std: m.std > 0 ? m.std : 1 }
        : { scheme: 'zscore' },
    );
  if (o.normalization) given('normalization');
  else
    reasons.push(
      `normalization: ${fp.modalities.map((m) => (/^ct$/i.test(m.modality) ? `${m.modality} clip to pooled [${fmt(m.p00_5)}, ${fmt(m.p99_5)}] then z-score` : `${m.modality} per-case z-score`)).join('; ')}`,
    );

  const rarest = Math.min(...fp.classVolumeFractions.slice(1));
  const foregroundOversampling = o.foregroundOversampling ?? (rarest < 0.01 ? 0.5 : 1 / 3);
  if (o.foregroundOversampling !== undefined) given('foregroundOversampling');
  else
    reasons.push(
      `foregroundOversampling: ${fmt(foregroundOversampling)}, rarest class ${fmt(100 * rarest)}% of voxels`,
    );

  const plan = DataPlan.parse({
    targetSpacingMm,
    patchSize,
    batchSize,
    depth,
    baseFilters,
    normalization,
    foregroundOversampling,
  });
  return { plan, reasons, estimatedMemoryMb: size(plan.patchSize, plan.depth) };
}

function fmt(x: number): string {
  return Number(x.toPrecision(4)).toString();
}
