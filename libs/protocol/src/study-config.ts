import { z } from 'zod';
import { ModelConfig } from './model-config';
import { TrainingConfig } from './training-config';
import { CompressionConfig, PrivacyConfig, StrategyConfig } from './strategy-config';
import { StudyRequirements } from './study-plan';
import { MEAN_BASED_STRATEGIES, SecureAggregationConfig } from './secure-aggregation';
import { DataPlan } from './fingerprint';

/**
 * Issue 18: how the study plans the sites' data (target spacing, patch, network size, normalization). With
 * `fingerprint` on (the default), the coordinator collects every approving site's data fingerprint before round 1
 * (aggregate statistics only: fingerprint.ts), plans from it with nnU-Net's rules (planFromFingerprint in
 * @fedseg/imaging), takes `overrides` as given, and writes the result to `plan`, which changes the plan hash: sites
 * approve again before they train. With `fingerprint` off nothing leaves a site before training, and `plan` must
 * be given in full.
 */
export const StudyDataConfig = z
  .strictObject({
    fingerprint: z.boolean().default(true),
    /** Fields of the data plan taken as given; the rest are planned around them. */
    overrides: DataPlan.partial().optional(),
    /** How long the fingerprint phase waits for the approving sites before it plans with those that answered. */
    fingerprintDeadlineMs: z
      .int()
      .min(1_000)
      .max(7 * 24 * 3_600_000)
      .default(10 * 60_000),
    /** The data plan: written by the coordinator after the fingerprint phase, or given with fingerprint off. */
    plan: DataPlan.optional(),
  })
  .refine((d) => d.fingerprint || d.plan !== undefined, {
    path: ['plan'],
    message: 'with fingerprint off, give the data plan in full (targetSpacingMm, patchSize, ...)',
  });
export type StudyDataConfig = z.infer<typeof StudyDataConfig>;

/**
 * When a study may start training, given its sites' approvals of the current plan: `quorum` starts rounds
 * with the approved sites once `minSites` of them are online; `all-invited` waits until every site named in
 * `sites` approved.
 */
export const ConsentPolicy = z.strictObject({
  policy: z.enum(['quorum', 'all-invited']).default('quorum'),
});

export const StudyConfig = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    description: z.string().max(5000).optional(),
    model: ModelConfig.prefault({}),
    training: TrainingConfig.prefault({}),
    strategy: StrategyConfig.default({ name: 'fedavg' }),
    /** Differential privacy (DP-FedAvg, central or local); the study stops once its epsilon budget is spent. */
    privacy: PrivacyConfig.default({ mode: 'none' }),
    /** How sites compress their updates for the uplink. */
    compression: CompressionConfig.default({ codec: 'none' }),
    /** Privacy floor: sites below it decline to train, with a reason the researcher sees. */
    requirements: StudyRequirements.prefault({}),
    consent: ConsentPolicy.prefault({}),
    /** Sites mask their updates so that the coordinator learns only their sum (secure-aggregation.ts). */
    secureAggregation: SecureAggregationConfig.optional(),
    /** Issue 18: a data plan (resampling, crop, normalization), from the federated fingerprint by default. */
    data: StudyDataConfig.optional(),
    rounds: z.int().min(1).max(100_000),
    /** A round aggregates once this many sites answered and the deadline passed (or all selected answered). */
    minSites: z.int().min(1).max(10_000).default(1),
    /** Sites asked per round; all eligible sites when absent. */
    sitesPerRound: z.int().min(1).max(10_000).optional(),
    /** Site names allowed in this study; any connected site when absent. */
    sites: z.array(z.string().min(1)).max(10_000).optional(),
    roundDeadlineMs: z
      .int()
      .min(1_000)
      .max(7 * 24 * 3_600_000)
      .default(10 * 60_000),
    /**
     * How long a round waits for evaluation reports after aggregating. Sites that went offline count only if
     * they return before it; shorter than roundDeadlineMs, since scoring a model is quicker than training one.
     */
    evaluationDeadlineMs: z
      .int()
      .min(1_000)
      .max(7 * 24 * 3_600_000)
      .default(5 * 60_000),
    /**
     * Rounds that may fail in a row (too few updates by the deadline, an aggregation error, masks that cannot
     * be removed) before the study pauses; each retry is a new round from the unchanged model. 0: pause at once.
     */
    roundRetries: z.int().min(0).max(1_000).default(0),
    /** How long the study waits for minSites to be connected before a round, before pausing. */
    siteWaitMs: z
      .int()
      .min(0)
      .max(7 * 24 * 3_600_000)
      .default(10 * 60_000),
  })
  .refine((c) => c.sitesPerRound === undefined || c.sitesPerRound >= c.minSites, {
    path: ['sitesPerRound'],
    message: 'sitesPerRound must be at least minSites',
  })
  .refine((c) => c.sites === undefined || c.sites.length >= c.minSites, {
    path: ['sites'],
    message: 'fewer allowed sites than minSites',
  })
  .refine(
    (c) => !c.secureAggregation || (MEAN_BASED_STRATEGIES as readonly string[]).includes(c.strategy.name),
    {
      path: ['strategy', 'name'],
      message: `secure aggregation reveals only the sum of the updates; strategies that look at individual updates (median, trimmed-mean, krum, multi-krum) cannot work on it. Use one of ${MEAN_BASED_STRATEGIES.join(', ')}, or turn secureAggregation off`,
    },
  )
  .refine(
    (c) =>
      (c.strategy.name !== 'krum' && c.strategy.name !== 'multi-krum') ||
      c.minSites >= 2 * c.strategy.byzantine + 3,
    {
      path: ['minSites'],
      message:
        'Krum needs at least 2f + 3 updates (f = strategy.byzantine) in every round; raise minSites to at least that, or lower byzantine',
    },
  )
  .refine((c) => !c.secureAggregation || c.compression.codec === 'none', {
    path: ['compression', 'codec'],
    message:
      'secure aggregation masks a dense fixed-point vector, so updates cannot be fp16/int8/top-k compressed; use codec "none"',
  })
  .refine((c) => !c.secureAggregation || c.minSites >= c.secureAggregation.threshold, {
    path: ['minSites'],
    message: 'with secure aggregation, minSites must be at least secureAggregation.threshold',
  })
  .refine((c) => c.consent.policy !== 'all-invited' || c.sites !== undefined, {
    path: ['consent', 'policy'],
    message: "'all-invited' needs the invited sites listed in `sites`",
  })
  .refine((c) => !c.data?.plan || dataPlanMatches(c), {
    path: ['data', 'plan'],
    message:
      "the data plan's patchSize, batchSize, depth and baseFilters must equal training's and model's (withDataPlan sets them)",
  })
  .refine((c) => !c.data?.plan || c.data.plan.normalization.length === c.model.inChannels, {
    path: ['data', 'plan', 'normalization'],
    message: 'one normalization per input channel',
  });
export type StudyConfig = z.infer<typeof StudyConfig>;

type PlannedFields = {
  model: { depth: number; baseFilters: number };
  training: { patchSize: readonly number[]; batchSize: number };
  data?: { plan?: DataPlan };
};

function dataPlanMatches(c: PlannedFields): boolean {
  const p = c.data!.plan!;
  return (
    p.depth === c.model.depth &&
    p.baseFilters === c.model.baseFilters &&
    p.batchSize === c.training.batchSize &&
    p.patchSize.every((n, a) => n === c.training.patchSize[a])
  );
}

/**
 * The config with a data plan in place: the plan itself under data.plan, and its network and patch sizes copied
 * to model and training, which is what the sites build and train (one source of truth per task).
 */
export function withDataPlan(config: StudyConfig, plan: DataPlan): StudyConfig {
  return {
    ...config,
    model: { ...config.model, depth: plan.depth, baseFilters: plan.baseFilters },
    training: { ...config.training, patchSize: [...plan.patchSize], batchSize: plan.batchSize },
    data: { ...(config.data ?? { fingerprint: false, fingerprintDeadlineMs: 10 * 60_000 }), plan },
  };
}
export type StudyConfigInput = z.input<typeof StudyConfig>;
