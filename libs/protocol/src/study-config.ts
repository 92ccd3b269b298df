import { z } from 'zod';
import { ModelConfig } from './model-config';
import { TrainingConfig } from './training-config';
import { CompressionConfig, PrivacyConfig, StrategyConfig } from './strategy-config';
import { StudyRequirements } from './study-plan';
import { MEAN_BASED_STRATEGIES, SecureAggregationConfig } from './secure-aggregation';

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
  });
export type StudyConfig = z.infer<typeof StudyConfig>;
export type StudyConfigInput = z.input<typeof StudyConfig>;
