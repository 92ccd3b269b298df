import { AggregationError } from './aggregation-error';
import { logAdd, logErfc, logSub } from './log-math';

// Math functions bound once: hot loops then skip a global lookup, which is slow inside jest's vm context.
const { log, log1p, abs, max, expm1 } = Math;

/**
 * Rényi-DP accounting for the sampled Gaussian mechanism (SGM): each round, every site takes part with
 * probability q (Poisson sampling) and the sum of their clipped updates gets N(0, (zC)^2) noise.
 *
 * RDP of one SGM step at order alpha is log(A_alpha) / (alpha - 1), with A_alpha from Mironov, Talwar &
 * Zhang, 2019, "Rényi Differential Privacy of the Sampled Gaussian Mechanism" (arXiv:1908.10530):
 * section 3.2 (integer alpha, a finite binomial sum) and section 3.3 (fractional alpha, two converging
 * series with erfc factors). RDP composes by addition over rounds (Mironov, 2017, Proposition 1).
 * Conversion to (epsilon, delta): Canonne, Kamath & Steinke, 2020, Proposition 12 (arXiv:2004.00010),
 * the conversion TensorFlow Privacy's and Google's dp_accounting RdpAccountant use; the older
 * epsilon = rdp - log(delta) / (alpha - 1) (Mironov, 2017, Proposition 3) is available as 'classic'.
 */

/**
 * Default orders: those TensorFlow Privacy's compute_dp_sgd_privacy uses, fine near 1 (large noise, many
 * rounds) and up to 512 (little noise).
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = [
  1.25,
  1.5,
  1.75,
  2,
  2.25,
  2.5,
  3,
  3.5,
  4,
  4.5,
  ...Array.from({ length: 59 }, (_, i) => 5 + i),
  128,
  256,
  512,
];

export type RdpConversion = 'improved' | 'classic';

/** log A_alpha for integer alpha: sum_k C(alpha, k) (1-q)^(alpha-k) q^k exp((k^2 - k) / (2 sigma^2)). */
function logAInt(q: number, sigma: number, alpha: number): number {
  const logQ = log(q);
  const log1mQ = log1p(-q);
  let logBinom = 0; // log C(alpha, 0)
  let logA = -Infinity;
  for (let k = 0; k <= alpha; k++) {
    if (k > 0) logBinom += log((alpha - k + 1) / k);
    logA = logAdd(logA, logBinom + k * logQ + (alpha - k) * log1mQ + (k * k - k) / (2 * sigma * sigma));
  }
  return logA;
}

/**
 * log A_alpha for fractional alpha: A = A0 + A1, each a series over i of generalized binomials C(alpha, i)
 * times Gaussian tail masses split at z0 = sigma^2 log(1/q - 1) + 1/2 (Mironov et al., 2019, section 3.3).
 * Terms with negative C(alpha, i) are subtracted; the series stop once both terms fall below e^-30.
 */
function logAFrac(q: number, sigma: number, alpha: number): number {
  const logQ = log(q);
  const log1mQ = log1p(-q);
  const z0 = sigma * sigma * log(1 / q - 1) + 0.5;
  const s2 = Math.SQRT2 * sigma;
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  let logAbsBinom = 0; // |C(alpha, 0)| = 1
  let positive = true;
  for (let i = 0; i < 100_000; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i;
      logAbsBinom += log(abs(factor));
      if (factor < 0) positive = !positive;
    }
    const j = alpha - i;
    const logT0 = logAbsBinom + i * logQ + j * log1mQ;
    const logT1 = logAbsBinom + j * logQ + i * log1mQ;
    const logE0 = log(0.5) + logErfc((i - z0) / s2);
    const logE1 = log(0.5) + logErfc((z0 - j) / s2);
    const logS0 = logT0 + (i * i - i) / (2 * sigma * sigma) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma * sigma) + logE1;
    if (positive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (max(logS0, logS1) < -30) break;
  }
  return logAdd(logA0, logA1);
}

/** RDP at `order` of one step of the sampled Gaussian mechanism with rate q and noise multiplier z. */
export function sampledGaussianRdp(samplingRate: number, noiseMultiplier: number, order: number): number {
  if (!(samplingRate >= 0 && samplingRate <= 1))
    throw new AggregationError(`Sampling rate must be in [0, 1], got ${samplingRate}.`);
  if (!(noiseMultiplier >= 0))
    throw new AggregationError(`Noise multiplier must be >= 0, got ${noiseMultiplier}.`);
  if (!(order > 1)) throw new AggregationError(`RDP orders must be > 1, got ${order}.`);
  if (order === Infinity || noiseMultiplier === 0) return Infinity;
  if (samplingRate === 0) return 0;
  if (samplingRate === 1) return order / (2 * noiseMultiplier * noiseMultiplier);
  try {
    const logA = Number.isInteger(order)
      ? logAInt(samplingRate, noiseMultiplier, order)
      : logAFrac(samplingRate, noiseMultiplier, order);
    return logA / (order - 1);
  } catch (err) {
    // logSub refuses a negative difference, which only rounding at extreme parameters can produce.
    throw new AggregationError(
      `RDP of the sampled Gaussian mechanism is numerically unstable at q = ${samplingRate}, z = ${noiseMultiplier}, order ${order} (${err instanceof Error ? err.message : String(err)}); drop that order.`,
      'PRIVACY_ACCOUNTING_FAILED',
    );
  }
}

/** RDP at every order after `steps` rounds (composition adds RDP). */
export function computeRdp(args: {
  samplingRate: number;
  noiseMultiplier: number;
  steps: number;
  orders?: readonly number[];
}): number[] {
  const orders = args.orders ?? DEFAULT_RDP_ORDERS;
  return orders.map((a) => args.steps * sampledGaussianRdp(args.samplingRate, args.noiseMultiplier, a));
}

/** The smallest epsilon over the orders for the given delta, and the order that gives it. */
export function epsilonFromRdp(
  orders: readonly number[],
  rdp: readonly number[],
  delta: number,
  conversion: RdpConversion = 'improved',
): { epsilon: number; order: number } {
  if (orders.length !== rdp.length || orders.length === 0)
    throw new AggregationError('Need one RDP value per order, and at least one order.');
  if (!(delta > 0 && delta < 1)) throw new AggregationError(`delta must be in (0, 1), got ${delta}.`);
  let best = Infinity;
  let bestOrder = orders[0];
  orders.forEach((a, k) => {
    const r = rdp[k];
    if (!(r >= 0)) throw new AggregationError(`RDP must be >= 0, got ${r} at order ${a}.`);
    let eps: number;
    if (conversion === 'classic') {
      eps = r - log(delta) / (a - 1);
    } else if (delta * delta + expm1(-r) > 0) {
      eps = 0; // delta alone already covers the KL bound sqrt(1 - e^-r) <= delta.
    } else if (a > 1.01) {
      eps = r + log1p(-1 / a) - log(delta * a) / (a - 1);
    } else {
      eps = Infinity; // Proposition 12 is numerically unstable as alpha -> 1.
    }
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  });
  return { epsilon: max(0, best), order: bestOrder };
}

/** Epsilon at `delta` after `rounds` rounds of the sampled Gaussian mechanism (DP-FedAvg). */
export function computeEpsilon(args: {
  noiseMultiplier: number;
  samplingRate: number;
  rounds: number;
  delta: number;
  orders?: readonly number[];
  conversion?: RdpConversion;
}): number {
  const orders = args.orders ?? DEFAULT_RDP_ORDERS;
  const rdp = computeRdp({
    samplingRate: args.samplingRate,
    noiseMultiplier: args.noiseMultiplier,
    steps: args.rounds,
    orders,
  });
  return epsilonFromRdp(orders, rdp, args.delta, args.conversion).epsilon;
}

/** Checkpointable accountant state: the accumulated RDP at each order. */
export interface RdpAccountantState {
  orders: number[];
  rdp: number[];
}

/**
 * Accumulates RDP over rounds that may differ (noise, sampling rate, a round with fewer sites). Its state is
 * plain numbers (`toJSON()` / `RdpAccountant.fromJSON()`), checkpointed by the coordinator with the round.
 */
export class RdpAccountant {
  private readonly orders: number[];
  private readonly rdp: number[];

  constructor(orders: readonly number[] = DEFAULT_RDP_ORDERS, rdp?: readonly number[]) {
    this.orders = [...orders];
    this.rdp = rdp ? [...rdp] : orders.map(() => 0);
    if (this.rdp.length !== this.orders.length)
      throw new AggregationError('Accountant state has a different number of orders and RDP values.');
  }

  static fromJSON(state: RdpAccountantState): RdpAccountant {
    return new RdpAccountant(state.orders, state.rdp);
  }

  /** Records `steps` rounds of the sampled Gaussian mechanism. */
  compose(noiseMultiplier: number, samplingRate: number, steps = 1): this {
    this.orders.forEach((a, k) => {
      this.rdp[k] += steps * sampledGaussianRdp(samplingRate, noiseMultiplier, a);
    });
    return this;
  }

  /** Epsilon spent so far at `delta`, with the order that gives it. */
  epsilon(delta: number, conversion: RdpConversion = 'improved'): { epsilon: number; order: number } {
    return epsilonFromRdp(this.orders, this.rdp, delta, conversion);
  }

  toJSON(): RdpAccountantState {
    return { orders: [...this.orders], rdp: [...this.rdp] };
  }
}
