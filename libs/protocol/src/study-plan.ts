import crypto from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json';
import { ModelConfig } from './model-config';
import { TrainingConfig } from './training-config';
import { CompressionConfig, PrivacyConfig, StrategyConfig } from './strategy-config';
import { SecureAggregationConfig } from './secure-aggregation';
import { DataPlan } from './fingerprint';

/**
 * The privacy floor of a study: a site with fewer local training cases, or whose batches would be smaller,
 * declines to train (small batches and tiny datasets make updates easier to invert).
 */
export const StudyRequirements = z.strictObject({
  minTrainingCases: z.int().min(1).max(1_000_000).default(1),
  minBatchSize: z.int().min(1).max(256).default(1),
});
export type StudyRequirements = z.infer<typeof StudyRequirements>;

/**
 * What a site admin approves before the agent trains for a study: everything that decides what runs on the
 * site's data and what leaves it. Identified by `planHash`; any change needs a new approval.
 */
export const StudyPlan = z.strictObject({
  studyId: z.uuid(),
  name: z.string(),
  model: ModelConfig,
  training: TrainingConfig,
  strategy: StrategyConfig,
  privacy: PrivacyConfig,
  compression: CompressionConfig,
  requirements: StudyRequirements,
  /** Absent when updates are not masked: the hash of plans made before secure aggregation is unchanged. */
  secureAggregation: SecureAggregationConfig.optional(),
  /**
   * Issue 18: how sites resample, crop and normalize their cases (planned from the federated fingerprint, or
   * given). Absent for studies without one: sites then train at native spacing with per-case z-scores, and the
   * hash of such plans is unchanged. Its patch, batch, depth and filters equal `training` and `model`'s.
   */
  data: DataPlan.optional(),
  /**
   * Issue 18: before round 1 the coordinator asks this site for its data fingerprint (SiteFingerprint: per-case
   * spacing and shapes, coarse foreground histograms, class fractions, the memory budget; no names, no voxels).
   * Approving a plan with this set is the site's consent to send it. Absent: nothing is asked.
   */
  fingerprint: z.literal(true).optional(),
});
export type StudyPlan = z.infer<typeof StudyPlan>;

export const PlanHash = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex');

/** SHA-256 of the plan's canonical JSON: the same plan hashes the same at the coordinator and every site. */
export function planHash(plan: StudyPlan): string {
  return crypto.createHash('sha256').update(canonicalJson(plan)).digest('hex');
}

/** Plain lines for a person deciding whether to approve: what trains, for how long, and what leaves. */
export function describePlan(plan: StudyPlan): string[] {
  const m = plan.model;
  const t = plan.training;
  const p = plan.privacy;
  return [
    `study       ${plan.name} (${plan.studyId})`,
    `model       ${m.architecture}, ${m.inChannels} channel(s) in, ${m.numClasses} classes, base filters ${m.baseFilters}, depth ${m.depth}, ${m.normalization} norm`,
    `training    ${t.epochs} epoch(s) per round, batch ${t.batchSize}, patch ${t.patchSize.join('x')}, ${t.optimizer} lr ${t.learningRate}, loss ${t.loss}${t.fedProxMu > 0 ? `, FedProx mu ${t.fedProxMu}` : ''}${t.fedBn ? ', FedBN (normalization stays here)' : ''}`,
    `strategy    ${plan.strategy.name}`,
    `privacy     ${p.mode === 'none' ? 'none (updates are encrypted, but not noised)' : `${p.mode} DP, clip ${p.clipNorm}, noise multiplier ${p.noiseMultiplier}, epsilon budget ${p.epsilonBudget}`}`,
    `uplink      weight deltas (codec ${plan.compression.codec}), sample counts, aggregate metrics; never images or file names`,
    plan.secureAggregation
      ? `secure agg  on: the update is masked so the coordinator sees only the sum over at least ${plan.secureAggregation.threshold} sites`
      : "secure agg  off: the coordinator can decrypt this site's update",
    ...(plan.data
      ? [
          `data        resampled to ${plan.data.targetSpacingMm.map((x) => +x.toFixed(3)).join('x')} mm, cropped to the body, ${plan.data.normalization.map((n) => (n.scheme === 'ct' ? `CT clip [${+n.clipLo.toFixed(1)}, ${+n.clipHi.toFixed(1)}] then z-score` : 'per-case z-score')).join(' / ')}, foreground oversampling ${plan.data.foregroundOversampling.toFixed(2)}`,
        ]
      : []),
    ...(plan.fingerprint
      ? [
          'fingerprint before round 1 this site sends aggregate statistics of its training cases (spacing, shapes, coarse foreground histograms, class fractions); never images or file names',
        ]
      : []),
    `floor       at least ${plan.requirements.minTrainingCases} training case(s) and batches of at least ${plan.requirements.minBatchSize}`,
  ];
}
