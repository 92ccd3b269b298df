import { z } from 'zod';
import { Signature64 } from './site-identity';

/*
 * The federated data fingerprint (issue 18): what a site may send about its training data before round 1, what
 * the coordinator makes of all sites' messages, and the data plan derived from it (nnU-Net's fingerprint and
 * experiment planning, Isensee et al., Nature Methods 2021, without pooling any image). Every object is strict:
 * a key that is not listed here is refused, so nothing else can ride along.
 */

const PositiveVec3 = z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]);
const ShapeVec3 = z.tuple([z.int().positive(), z.int().positive(), z.int().positive()]);

/** Per training case: its voxel spacing and grid size, nothing else (no id, no file name, no values). */
export const FingerprintCase = z.strictObject({
  /** Voxel spacing [dx, dy, dz] in mm. */
  spacingMm: PositiveVec3,
  /** Native grid [nx, ny, nz]. */
  shape: ShapeVec3,
  /** Grid after cropping to the body's bounding box (what training sees before resampling). */
  bodyShape: ShapeVec3,
});
export type FingerprintCase = z.infer<typeof FingerprintCase>;

/**
 * Foreground (label > 0) intensities of one modality over the site's training cases, as nnU-Net collects them:
 * up to a fixed number of voxels sampled per case, binned coarsely. Bins are equal-width on [lo, hi] (the last
 * bin includes hi); `counts` are sampled voxels, not all voxels. `mean` and `std` are over every foreground
 * voxel (population std), which CT normalization needs (nnU-Net's CTNormalization uses them unclipped).
 */
export const ModalityFingerprint = z.strictObject({
  /** The modality's name as dataset.json declares it ('CT', 'T1', 'FLAIR', ...); decides CT vs MR rules. */
  modality: z.string().min(1).max(32),
  lo: z.number(),
  hi: z.number(),
  counts: z.array(z.int().min(0)).min(1).max(256),
  mean: z.number(),
  std: z.number().min(0),
  /** Foreground voxels over all cases (the weight of mean and std when sites are pooled). */
  voxels: z.int().min(0),
});
export type ModalityFingerprint = z.infer<typeof ModalityFingerprint>;

/** Exactly what leaves a site for the fingerprint: aggregate statistics only. Documented in libs/imaging's README. */
export const SiteFingerprint = z.strictObject({
  version: z.literal(1),
  cases: z.array(FingerprintCase).min(1).max(100_000),
  /** One entry per modality (channel), in channel order. */
  modalities: z.array(ModalityFingerprint).min(1).max(16),
  /** Including background. */
  numClasses: z.int().min(2).max(32),
  /** Share of all native voxels (all cases) in each class, index = class id; sums to 1. */
  classVolumeFractions: z.array(z.number().min(0).max(1)).min(2).max(32),
  /** Memory the site can give one training step, MiB (the plan's patch and network must fit every site). */
  memoryBudgetMb: z.number().positive().max(16_777_216).optional(),
});
export type SiteFingerprint = z.infer<typeof SiteFingerprint>;

/** Percentiles of a per-axis distribution (case values pooled over sites). */
export const AxisDistribution = z.strictObject({
  min: PositiveVec3,
  p10: PositiveVec3,
  median: PositiveVec3,
  p90: PositiveVec3,
  max: PositiveVec3,
});
export type AxisDistribution = z.infer<typeof AxisDistribution>;

/** A modality's foreground intensities pooled over every site. */
export const PooledModality = z.strictObject({
  modality: z.string().min(1).max(32),
  /** 0.5th and 99.5th percentiles of the pooled histograms (nnU-Net's CT clipping bounds). */
  p00_5: z.number(),
  p99_5: z.number(),
  mean: z.number(),
  std: z.number().min(0),
  voxels: z.int().min(0),
});
export type PooledModality = z.infer<typeof PooledModality>;

/** What the coordinator keeps of all sites' fingerprints (combineFingerprints in @fedseg/imaging). */
export const CombinedFingerprint = z.strictObject({
  sites: z.int().min(1),
  cases: z.int().min(1),
  spacingMm: AxisDistribution,
  shape: AxisDistribution,
  /** Grid after the body crop, in native voxels (nnU-Net's shapes_after_crop). */
  bodyShape: AxisDistribution,
  /** Per case: bodyShape x spacing, the body's extent in mm; its median over target spacing is the median shape. */
  bodyExtentMm: AxisDistribution,
  modalities: z.array(PooledModality).min(1).max(16),
  numClasses: z.int().min(2).max(32),
  /** Voxel-weighted over all sites' cases. */
  classVolumeFractions: z.array(z.number().min(0).max(1)).min(2).max(32),
  /** The smallest budget any site reported; absent when none did. */
  memoryBudgetMb: z.number().positive().optional(),
});
export type CombinedFingerprint = z.infer<typeof CombinedFingerprint>;

/** CT: clip to the pooled percentiles, then z-score with the pooled foreground mean and std (nnU-Net). */
export const CtNormalization = z.strictObject({
  scheme: z.literal('ct'),
  clipLo: z.number(),
  clipHi: z.number(),
  mean: z.number(),
  std: z.number().positive(),
});
/** MR and everything else: each case z-scored with its own foreground (body) mean and std (nnU-Net). */
export const PerCaseZScore = z.strictObject({ scheme: z.literal('zscore') });
export const ChannelNormalization = z.discriminatedUnion('scheme', [CtNormalization, PerCaseZScore]);
export type ChannelNormalization = z.infer<typeof ChannelNormalization>;

/** The data side of a study plan, derived from the fingerprint (planFromFingerprint); every field overridable. */
export const DataPlan = z.strictObject({
  targetSpacingMm: PositiveVec3,
  patchSize: ShapeVec3,
  batchSize: z.int().min(1).max(256),
  /** Encoder levels counting the bottleneck (ModelConfig.depth); patchSize is a multiple of 2^(depth-1). */
  depth: z.int().min(1).max(6),
  baseFilters: z.int().min(1).max(512),
  /** One per channel, in channel order. */
  normalization: z.array(ChannelNormalization).min(1).max(16),
  /** Share of patches centred on foreground (nnU-Net: 1/3). */
  foregroundOversampling: z.number().min(0).max(1),
});
export type DataPlan = z.infer<typeof DataPlan>;

/*
 * The fingerprint phase on the wire (issue 18): before round 1 the coordinator asks each site that approved the
 * study's plan for its data fingerprint, and the site answers with SiteFingerprint (fingerprint.ts) and nothing
 * else. Both directions are signed: the request with the coordinator's key (domain fingerprintRequest), the
 * report with the site's (domain fingerprintReport), bound to the study.
 */

/** coordinator -> agent: send your fingerprint for this study; the plan hash is the one the site approved. */
export const FingerprintRequest = z.strictObject({
  studyId: z.uuid(),
  /** The study plan's hash (sha256 hex) that the site approved and the request is about. */
  planHash: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex'),
});
export type FingerprintRequest = z.infer<typeof FingerprintRequest>;
export const SignedFingerprintRequest = z.strictObject({
  request: FingerprintRequest,
  signature: Signature64,
});
export type SignedFingerprintRequest = z.infer<typeof SignedFingerprintRequest>;

/** agent -> coordinator: exactly this object, strict at every level, so nothing else can ride along. */
export const FingerprintReport = z.strictObject({
  studyId: z.uuid(),
  fingerprint: SiteFingerprint,
});
export type FingerprintReport = z.infer<typeof FingerprintReport>;
export const SignedFingerprintReport = z.strictObject({ report: FingerprintReport, signature: Signature64 });
export type SignedFingerprintReport = z.infer<typeof SignedFingerprintReport>;

/** agent -> coordinator: the site will not send a fingerprint for the study, with why (no plan approved, ...). */
export const FingerprintDeclined = z.strictObject({
  studyId: z.uuid(),
  reason: z.string().min(1).max(1000),
});
export type FingerprintDeclined = z.infer<typeof FingerprintDeclined>;
