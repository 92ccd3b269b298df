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
  /**
   * The share of the median body shape's voxels the patch must cover at the planned spacing; below it the
   * spacing is coarsened (nnU-Net's 3d_lowres rule, see coarsenedSpacing). Default 0.25 (nnU-Net's
   * lowres_creation_threshold); 0 keeps the full-resolution spacing whatever the patch covers.
   */
  lowResThreshold?: number;
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
 * - target spacing: targetSpacingFromFingerprint, coarsened when the patch below covers under 25% of the median
 *   body shape there (nnU-Net's 3d_lowres rule, coarsenedSpacing; options.lowResThreshold);
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

  const baseFilters =
    o.baseFilters ?? (budget === undefined ? 8 : budget >= 8192 ? 32 : budget >= 2048 ? 16 : 8);
  const batchSize = o.batchSize ?? 2;
  const size = (patchSize: Vec3, depth: number): number =>
    estimateTrainingMemoryMb({
      patchSize,
      depth,
      baseFilters,
      batchSize,
      inChannels: fp.modalities.length,
      numClasses: fp.numClasses,
    });
  const patchAt = (spacing: Vec3): PatchChoice =>
    choosePatch(fp, spacing, o, size, budget, options.maxPatchEdge ?? 128);

  const fullres = o.targetSpacingMm ?? targetSpacingFromFingerprint(fp);
  let targetSpacingMm = fullres;
  let choice = patchAt(fullres);
  if (o.targetSpacingMm) given('targetSpacingMm');
  else {
    const lowres = coarsenedSpacing(fullres, choice, patchAt, options.lowResThreshold ?? 0.25);
    const median = `median case spacing ${fp.spacingMm.median.map(fmt).join('x')} mm`;
    const fullNote = fullres.some((s, a) => s !== fp.spacingMm.median[a])
      ? ` (${fullres.map(fmt).join('x')} mm, nnU-Net)`
      : '';
    if (lowres?.kept) {
      reasons.push(
        `targetSpacingMm: ${median}${fullNote || ' (nnU-Net)'}; a ${choice.patchSize.join('x')} patch covers ` +
          `${pct(choice.coverage)} of the median body shape ${choice.medianShape.join('x')}, under ${pct(lowres.threshold)}, ` +
          `but ${lowres.spacing.map(fmt).join('x')} mm, where it would cover enough, does not halve the voxels ` +
          '(nnU-Net then keeps full resolution)',
      );
    } else if (lowres) {
      const before = `a ${choice.patchSize.join('x')} patch covers ${pct(choice.coverage)} of the median body shape ${choice.medianShape.join('x')}`;
      targetSpacingMm = lowres.spacing;
      choice = lowres.choice;
      reasons.push(
        `targetSpacingMm: ${targetSpacingMm.map(fmt).join('x')} mm, coarsened from the ${median}${fullNote} ` +
          `(nnU-Net's 3d_lowres): there ${before}, under ${pct(lowres.threshold)}; here the ` +
          `${choice.patchSize.join('x')} patch covers ${pct(choice.coverage)} of ${choice.medianShape.join('x')}. ` +
          "Predictions are resampled back to each case's native grid for scoring",
      );
    } else reasons.push(`targetSpacingMm: ${median}${fullNote || ' (nnU-Net)'}`);
  }

  if (o.baseFilters) given('baseFilters');
  else
    reasons.push(
      `baseFilters: ${baseFilters} for a budget of ${budget === undefined ? 'none reported' : `${budget} MiB`}`,
    );
  if (o.batchSize) given('batchSize');
  else reasons.push('batchSize: 2 (nnU-Net)');

  const { patchSize, depth } = choice;
  if (o.patchSize) given('patchSize');
  else
    reasons.push(
      `patchSize: median body shape ${choice.medianShape.join('x')} at the target spacing` +
        (budget === undefined
          ? ''
          : choice.fits
            ? `, shrunk to fit ${budget} MiB`
            : `; the smallest patch still exceeds ${budget} MiB`),
    );
  reasons.push(o.depth ? 'depth: given' : `depth: ${depth}, bottleneck of at least 4 voxels`);

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

/** A patch, its depth and what it covers at one candidate spacing. */
interface PatchChoice {
  patchSize: Vec3;
  depth: number;
  /** Whether it fits the memory budget (true without one). */
  fits: boolean;
  /** The median body extent at this spacing, rounded to voxels (for the reasons). */
  medianShape: Vec3;
  /** Patch voxels over the median body extent's voxels at this spacing (unrounded, as nnU-Net). */
  coverage: number;
}

/**
 * The patch at one spacing: the researcher's, or the median body shape at that spacing capped at maxEdge, rounded
 * up to the network's divisor, then shrunk one divisor step at a time on the axis largest relative to the median
 * shape until estimateTrainingMemoryMb fits the budget (nnU-Net's loop); the depth follows the patch.
 */
function choosePatch(
  fp: CombinedFingerprint,
  spacing: Vec3,
  o: Partial<DataPlan>,
  size: (patch: Vec3, depth: number) => number,
  budget: number | undefined,
  maxEdge: number,
): PatchChoice {
  const extent = fp.bodyExtentMm.median.map((mm, a) => mm / spacing[a]) as Vec3;
  const medianShape = extent.map((n) => Math.max(1, Math.round(n))) as Vec3;
  const coverage = (patch: Vec3): number =>
    (patch[0] * patch[1] * patch[2]) / extent.reduce((a, n) => a * Math.max(1, n), 1);
  if (o.patchSize) {
    const patchSize = [...o.patchSize] as Vec3;
    const depth = o.depth ?? maxDepthForPatch(patchSize);
    const d = 2 ** (depth - 1);
    if (patchSize.some((n) => n % d !== 0))
      throw new FingerprintError(`patch ${patchSize.join('x')} is not a multiple of 2^(depth-1) = ${d}`);
    const fits = budget === undefined || size(patchSize, depth) <= budget;
    return { patchSize, depth, fits, medianShape, coverage: coverage(patchSize) };
  }
  let patchSize = medianShape.map((n) => Math.min(n, maxEdge)) as Vec3;
  let depth = o.depth ?? maxDepthForPatch(patchSize);
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
  return { patchSize, depth, fits, medianShape, coverage: coverage(patchSize) };
}

/** nnU-Net's step when it looks for a 3d_lowres spacing (spacing_increase_factor). */
const SPACING_STEP = 1.03;

/**
 * nnU-Net's 3d_lowres rule, for a federation that trains one configuration: when the patch that fits the budget
 * (or the researcher's patch) covers less than `threshold` of the median body shape's voxels at the
 * full-resolution spacing, the network would see too little of the body to learn its context, so the spacing is
 * coarsened by 3% a step (only the axes more than 2x finer than the coarsest while there are any, so an
 * anisotropic grid becomes more isotropic first) and the patch planned again at each step, until it covers
 * `threshold`. The spacing is then rounded up to 4 significant digits (coarser never covers less). Sites train
 * and infer at that spacing and resample predictions to each case's native grid, so metrics stay native.
 * Returns undefined when the full-resolution patch already covers enough, and `kept` when the coarse spacing
 * would not halve the median image's voxels (nnU-Net then drops 3d_lowres; full resolution stays).
 */
function coarsenedSpacing(
  fullres: Vec3,
  atFullres: PatchChoice,
  patchAt: (spacing: Vec3) => PatchChoice,
  threshold: number,
):
  | { kept: false; spacing: Vec3; choice: PatchChoice; threshold: number }
  | { kept: true; spacing: Vec3; threshold: number }
  | undefined {
  if (threshold <= 0 || atFullres.coverage >= threshold) return undefined;
  let spacing = [...fullres] as Vec3;
  let choice = atFullres;
  // Each step shrinks the median shape by 3% on some axis, so the loop ends; the cap only bounds bad input.
  for (let step = 0; step < 1000 && choice.coverage < threshold; step++) {
    const coarsest = Math.max(...spacing);
    const fine = spacing.map((s) => coarsest / s > 2);
    const some = fine.some(Boolean);
    spacing = spacing.map((s, a) => (!some || fine[a] ? s * SPACING_STEP : s)) as Vec3;
    choice = patchAt(spacing);
  }
  const rounded = spacing.map(ceil4) as Vec3;
  // nnU-Net drops a lowres configuration that does not at least halve the median image's voxels: so close to
  // full resolution the full-resolution patch is judged big enough.
  const shrink = rounded.reduce((a, s, i) => a * (s / fullres[i]), 1);
  if (shrink < 2) return { kept: true, spacing: rounded, threshold };
  return { kept: false, spacing: rounded, choice: patchAt(rounded), threshold };
}

/** Rounds up to 4 significant digits. */
function ceil4(x: number): number {
  const unit = 10 ** (Math.floor(Math.log10(x)) - 3);
  // The 1e-9 keeps a value already on the grid (1.974 stored as 1.97399999...) where it is.
  return Number((Math.ceil(x / unit - 1e-9) * unit).toPrecision(4));
}

function pct(x: number): string {
  return `${Number((100 * x).toPrecision(3))}%`;
}

function fmt(x: number): string {
  return Number(x.toPrecision(4)).toString();
}
