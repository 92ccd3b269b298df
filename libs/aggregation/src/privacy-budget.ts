import type { DpPrivacyConfig, PrivacyConfig } from '@fedseg/protocol';
import { PrivacyBudgetExhaustedError } from './aggregation-error';
import { DEFAULT_RDP_ORDERS, epsilonFromRdp, sampledGaussianRdp } from './rdp-accountant';

/**
 * What one round costs in RDP, per privacy mode (DP-FedAvg, McMahan et al., 2018; site-level privacy):
 *  - central: add/remove-one-site adjacency, sensitivity C on the sum, noise z*C, sites Poisson-sampled with
 *    rate q: the sampled Gaussian mechanism with (q, z).
 *  - local: each site protects itself against the coordinator, which knows who took part (no amplification
 *    by sampling, q = 1) and sees the site's update alone; replacing the site's data moves its clipped update
 *    by up to 2C, so the Gaussian mechanism with z / 2. Counted for every round (an upper bound on a site's
 *    participations).
 */
function perRoundRdp(privacy: DpPrivacyConfig, orders: readonly number[]): number[] {
  return privacy.mode === 'central'
    ? orders.map((a) => sampledGaussianRdp(privacy.siteSamplingRate, privacy.noiseMultiplier, a))
    : orders.map((a) => sampledGaussianRdp(1, privacy.noiseMultiplier / 2, a));
}

export interface PrivacyStatus {
  mode: PrivacyConfig['mode'];
  /** Epsilon spent after `rounds` committed rounds (0 with mode none). */
  epsilon: number;
  /** Epsilon once one more round is committed. */
  epsilonNextRound: number;
  delta: number;
  epsilonBudget: number;
  /** True when one more round would exceed the budget: the study must stop before starting it. */
  exhausted: boolean;
  /** Rounds the budget allows in total (Infinity with mode none). */
  roundsAllowed: number;
  rounds: number;
}

function epsilonAfter(
  privacy: DpPrivacyConfig,
  perRound: readonly number[],
  orders: readonly number[],
  rounds: number,
): number {
  if (rounds === 0) return 0;
  return epsilonFromRdp(
    orders,
    perRound.map((r) => r * rounds),
    privacy.targetDelta,
  ).epsilon;
}

/** Largest number of rounds whose epsilon stays within the budget (capped at 10 million; Infinity without DP). */
export function roundsWithinBudget(
  privacy: PrivacyConfig,
  orders: readonly number[] = DEFAULT_RDP_ORDERS,
): number {
  if (privacy.mode === 'none') return Infinity;
  const perRound = perRoundRdp(privacy, orders);
  let lo = 0;
  let hi = 10_000_000;
  if (epsilonAfter(privacy, perRound, orders, hi) <= privacy.epsilonBudget) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (epsilonAfter(privacy, perRound, orders, mid) <= privacy.epsilonBudget) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The study's privacy position after `rounds` committed rounds: what the coordinator shows in the study
 * status and checks before starting a round.
 */
export function privacyStatus(
  privacy: PrivacyConfig,
  rounds: number,
  orders: readonly number[] = DEFAULT_RDP_ORDERS,
): PrivacyStatus {
  if (privacy.mode === 'none') {
    return {
      mode: 'none',
      epsilon: 0,
      epsilonNextRound: 0,
      delta: 0,
      epsilonBudget: Infinity,
      exhausted: false,
      roundsAllowed: Infinity,
      rounds,
    };
  }
  const perRound = perRoundRdp(privacy, orders);
  const epsilon = epsilonAfter(privacy, perRound, orders, rounds);
  const epsilonNextRound = epsilonAfter(privacy, perRound, orders, rounds + 1);
  return {
    mode: privacy.mode,
    epsilon,
    epsilonNextRound,
    delta: privacy.targetDelta,
    epsilonBudget: privacy.epsilonBudget,
    exhausted: epsilonNextRound > privacy.epsilonBudget,
    roundsAllowed: roundsWithinBudget(privacy, orders),
    rounds,
  };
}

/** Throws PrivacyBudgetExhaustedError when one more round would exceed the budget. */
export function assertPrivacyBudget(privacy: PrivacyConfig, rounds: number): PrivacyStatus {
  const status = privacyStatus(privacy, rounds);
  if (status.exhausted)
    throw new PrivacyBudgetExhaustedError(status.epsilon, status.epsilonNextRound, status.epsilonBudget);
  return status;
}
