import { z } from 'zod';

/**
 * How the coordinator combines site updates, how updates are privatized and how they travel.
 * libs/aggregation implements each; every default below is documented where it is set.
 *
 * FedProx (Li et al., 2020) is `fedavg` on the server plus `training.fedProxMu` at the sites;
 * FedBN (Li et al., 2021) is any strategy plus `training.fedBn` (normalization parameters stay local).
 */

/**
 * Update-norm bounding (Sun et al., 2019, "Can you really backdoor federated learning?"): each site's
 * update (local weights minus the global weights) is scaled down to at most this L2 norm before
 * aggregation. Absent: no bound. Applies to every strategy.
 */
const updateNormBound = z.number().positive().optional();

const FedAvg = z.object({
  /** FedAvg (McMahan et al., 2017): sample-weighted mean of the sites' weights. */
  name: z.literal('fedavg'),
  updateNormBound,
});

const FedAvgM = z.object({
  /** FedAvgM (Hsu et al., 2019): server momentum on the averaged update. */
  name: z.literal('fedavgm'),
  updateNormBound,
  /** Server learning rate eta; 1 with momentum 0 is plain FedAvg. */
  serverLearningRate: z.number().positive().max(100).default(1),
  /** Server momentum beta in [0, 1). */
  serverMomentum: z.number().min(0).lt(1).default(0.9),
});

/** Adaptive server optimizers, Reddi et al., 2021, "Adaptive Federated Optimization", Algorithm 2. */
const fedOptFields = {
  updateNormBound,
  /** Server learning rate eta. */
  serverLearningRate: z.number().positive().max(100).default(1e-2),
  /** First-moment decay beta1 in [0, 1). */
  beta1: z.number().min(0).lt(1).default(0.9),
  /** Adaptivity tau: the moments start at tau^2 and tau is added to sqrt(v) (paper: v_{-1} >= tau^2). */
  tau: z.number().positive().max(1).default(1e-3),
};

const FedAdam = z.object({
  name: z.literal('fedadam'),
  ...fedOptFields,
  /** Second-moment decay beta2 in [0, 1). */
  beta2: z.number().min(0).lt(1).default(0.99),
});

const FedYogi = z.object({
  name: z.literal('fedyogi'),
  ...fedOptFields,
  /** Second-moment decay beta2 in [0, 1). */
  beta2: z.number().min(0).lt(1).default(0.99),
});

const FedAdagrad = z.object({
  name: z.literal('fedadagrad'),
  ...fedOptFields,
  /** FedAdagrad accumulates squares without decay; its momentum defaults to none. */
  beta1: z.number().min(0).lt(1).default(0),
});

const Median = z.object({
  /** Coordinate-wise median (Yin et al., 2018). Buffers all N updates. */
  name: z.literal('median'),
  updateNormBound,
});

const TrimmedMean = z.object({
  /** Coordinate-wise trimmed mean (Yin et al., 2018). Buffers all N updates. */
  name: z.literal('trimmed-mean'),
  updateNormBound,
  /** Fraction trimmed from each end: floor(beta * N) largest and smallest values per coordinate. */
  beta: z.number().min(0).lt(0.5).default(0.1),
});

const Krum = z.object({
  /** Krum (Blanchard et al., 2017): the one update closest to its N - f - 2 neighbours. Needs N >= 2f + 3. */
  name: z.literal('krum'),
  updateNormBound,
  /** f, the number of faulty (Byzantine) sites tolerated. */
  byzantine: z.int().min(0).max(1000).default(1),
});

const MultiKrum = z.object({
  /** Multi-Krum (Blanchard et al., 2017): mean of the m updates with the best Krum scores. Needs N >= 2f + 3. */
  name: z.literal('multi-krum'),
  updateNormBound,
  /** f, the number of faulty (Byzantine) sites tolerated. */
  byzantine: z.int().min(0).max(1000).default(1),
  /** m, how many updates are averaged; N - f when absent. */
  keep: z.int().min(1).max(10_000).optional(),
});

export const StrategyConfig = z.discriminatedUnion('name', [
  FedAvg,
  FedAvgM,
  FedAdam,
  FedYogi,
  FedAdagrad,
  Median,
  TrimmedMean,
  Krum,
  MultiKrum,
]);
export type StrategyConfig = z.infer<typeof StrategyConfig>;
export type StrategyName = StrategyConfig['name'];

/** Strategies that add the site updates one at a time in O(P) memory; the others hold all N updates. */
export const STREAMING_STRATEGIES: readonly StrategyName[] = [
  'fedavg',
  'fedavgm',
  'fedadam',
  'fedyogi',
  'fedadagrad',
];

/**
 * DP-FedAvg (McMahan et al., 2018, "Learning Differentially Private Recurrent Language Models"), site-level
 * privacy: every site's update is clipped to L2 norm `clipNorm` (C) and Gaussian noise of standard deviation
 * `noiseMultiplier * clipNorm` (z·C) is added
 *  - `central`: once, to the sum at the coordinator (trusted aggregator); sites clip too, so it composes
 *    with secure aggregation. Averages are then unweighted (the sensitivity bound needs equal weights).
 *  - `local`: at every site, to its own update, before it leaves the site (no trust in the coordinator).
 * An RDP accountant (Mironov et al., 2019) turns (z, q = siteSamplingRate, rounds) into epsilon at
 * `targetDelta`; the study stops cleanly before a round would take epsilon past `epsilonBudget`.
 */
const dpFields = {
  /** C: L2 bound on one site's update (local weights minus global weights). */
  clipNorm: z.number().positive(),
  /** z: noise standard deviation as a multiple of C. */
  noiseMultiplier: z.number().positive().max(1000),
  /** delta of the (epsilon, delta) guarantee; should be below 1 / (number of sites). */
  targetDelta: z.number().gt(0).lt(1).default(1e-5),
  /** The study stops before a round would make epsilon exceed this. */
  epsilonBudget: z.number().positive(),
  /**
   * q: probability that a site takes part in a round (Poisson sampling, decided independently per site).
   * 1 (default) means every site every round, no amplification by sampling.
   */
  siteSamplingRate: z.number().gt(0).max(1).default(1),
};

export const PrivacyConfig = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('none') }),
  z.object({ mode: z.literal('central'), ...dpFields }),
  z.object({ mode: z.literal('local'), ...dpFields }),
]);
export type PrivacyConfig = z.infer<typeof PrivacyConfig>;
export type DpPrivacyConfig = Extract<PrivacyConfig, { mode: 'central' | 'local' }>;

/** How a site's update (local weights minus global weights) is compressed on the way to the coordinator. */
export const CompressionConfig = z.discriminatedUnion('codec', [
  /** float32 as is. */
  z.object({ codec: z.literal('none') }),
  /** IEEE half precision (round to nearest even): 2x smaller. */
  z.object({ codec: z.literal('fp16') }),
  /**
   * int8 with one scale per tensor (max |x| / 127): about 4x smaller. Stochastic rounding (default) is
   * unbiased with error < scale; nearest rounding has error <= scale / 2 but is biased.
   */
  z.object({ codec: z.literal('int8'), rounding: z.enum(['stochastic', 'nearest']).default('stochastic') }),
  /**
   * Top-k sparsification (Aji & Heafield, 2017; Stich et al., 2018): only the k = ceil(fraction * P)
   * largest-magnitude entries are sent (index int32 + value float32: 1 / (2 * fraction) smaller).
   * With error feedback (default) the rest is kept at the site and added to the next round's update.
   */
  z.object({
    codec: z.literal('top-k'),
    fraction: z.number().gt(0).max(1).default(0.01),
    errorFeedback: z.boolean().default(true),
  }),
]);
export type CompressionConfig = z.infer<typeof CompressionConfig>;
