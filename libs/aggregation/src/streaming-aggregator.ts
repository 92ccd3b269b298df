import type { StrategyConfig } from '@fedseg/protocol';
import { AggregationError, assertLength } from './aggregation-error';
import type { AggregatorContext } from './aggregator-context';
import { clipScale, distanceNorm, firstNonFinite } from './clip-update';
import { fedAdagrad } from './fed-adagrad';
import { fedAdam } from './fed-adam';
import { fedAvgM } from './fed-avg-m';
import { fedYogi } from './fed-yogi';
import { addGaussianNoise } from './gaussian-noise';
import { cryptoRng } from './rng';
import { fixedPointAt } from './secure/ring64';
import type { Aggregator, SiteUpdate, StrategyState } from './site-update';

type StreamingStrategy = Extract<
  StrategyConfig,
  { name: 'fedavg' | 'fedavgm' | 'fedadam' | 'fedyogi' | 'fedadagrad' }
>;

/**
 * FedAvg and the server optimizers built on it (FedAvgM, FedAdam, FedYogi, FedAdagrad), streaming: updates
 * are folded into a running weighted mean as they arrive, so memory is O(P) whatever N: one float32
 * accumulator, up to 3 updates held by reference until a group of 4 is folded in one pass (half the
 * accumulator traffic of folding one at a time: 2x faster in V8), plus the optimizer's next m/v at finish.
 * Per update: one pass for its norm when updates are bounded or clipped.
 *
 * Running mean over groups: acc' = (T / T') acc + sum_j (n_j s_j / T') w_j with T' = T + sum_j n_j, which
 * keeps float32 error at a few ulps of the weights (a plain sum would grow with N and n_j). A clipped update
 * g + s (w - g) contributes s w to `acc` and (1 - s) to the scalar `restMean` (times g at finish).
 */
interface Pending {
  weights: Float32Array;
  n: number;
  s: number;
}

export class StreamingAggregator implements Aggregator {
  /** Allocated at first use: a round summed in fixed point needs it only at the end (peak memory). */
  private accBuffer: Float32Array | null = null;
  private readonly bound: number | undefined;
  private readonly central: boolean;
  private totalWeight = 0;
  private pending: Pending[] = [];
  private restMean = 0;
  private readonly seen = new Set<string>();
  private finished = false;
  /** How many weights a secure sum has covered so far (addSecureSumSlice); null when there is none. */
  private secureCovered: number | null = null;

  constructor(
    private readonly strategy: StreamingStrategy,
    private readonly context: AggregatorContext,
  ) {
    const privacy = context.privacy;
    this.central = privacy?.mode === 'central';
    const bounds = [
      strategy.updateNormBound,
      privacy?.mode === 'central' ? privacy.clipNorm : undefined,
    ].filter((b): b is number => b !== undefined);
    this.bound = bounds.length > 0 ? Math.min(...bounds) : undefined;
    if (context.out && context.out.length !== context.global.length)
      throw new AggregationError(
        `The output buffer holds ${context.out.length} values; the global model has ${context.global.length}.`,
        'UPDATE_LENGTH_MISMATCH',
      );
  }

  private get acc(): Float32Array {
    // A caller's buffer may hold anything: the running mean starts from zeros (0 * NaN would stay NaN).
    this.accBuffer ??= this.context.out?.fill(0) ?? new Float32Array(this.context.global.length);
    return this.accBuffer;
  }

  add(update: SiteUpdate): void {
    if (this.finished)
      throw new AggregationError('This round was already aggregated; create a new aggregator.');
    const { global } = this.context;
    assertLength(update.weights, global.length, update.siteId);
    if (this.seen.has(update.siteId)) {
      throw new AggregationError(
        `Site ${update.siteId} sent two updates this round; only one counts.`,
        'DUPLICATE_UPDATE',
      );
    }
    if (!(update.samples > 0) || !Number.isFinite(update.samples)) {
      throw new AggregationError(
        `Site ${update.siteId} reported ${update.samples} samples; an update needs at least one.`,
      );
    }
    const s =
      this.bound === undefined
        ? 1
        : clipScale(distanceNorm(update.weights, global), this.bound, update.siteId);
    // DP-FedAvg's sensitivity bound holds for equal weights only (McMahan et al., 2018).
    const n = this.central ? 1 : update.samples;
    this.seen.add(update.siteId);
    this.pending.push({ weights: update.weights, n, s });
    if (this.pending.length === 4) this.flush();
  }

  /**
   * Secure aggregation: instead of one add() per site, the unmasked sum of the sites' weighted deltas
   * (sum of w_k * delta_k) and the sum of their weights. Sites clipped their own updates (the coordinator
   * never sees one to clip); with central DP every weight is 1, so the noise is calibrated to `siteIds.length`.
   */
  addSecureSum(sum: {
    /** The sum as numbers, or still as the 64-bit fixed-point ring vector it was computed in (decoded here). */
    deltaSum: ArrayLike<number> | { ring: Uint32Array };
    totalWeight: number;
    siteIds: readonly string[];
  }): void {
    const { global } = this.context;
    if ('ring' in sum.deltaSum) {
      const ring = sum.deltaSum.ring;
      if (ring.length !== global.length * 2)
        throw new AggregationError(
          `The secure sum has ${ring.length / 2} values; the global model has ${global.length}.`,
          'UPDATE_LENGTH_MISMATCH',
        );
      this.addSecureSumSlice({ offset: 0, ring, totalWeight: sum.totalWeight, siteIds: sum.siteIds });
      return;
    }
    const deltaSum = sum.deltaSum;
    if (deltaSum.length !== global.length)
      throw new AggregationError(
        `The secure sum has ${deltaSum.length} values; the global model has ${global.length}.`,
        'UPDATE_LENGTH_MISMATCH',
      );
    this.startSecureSum(sum.totalWeight, sum.siteIds);
    const acc = this.acc;
    for (let i = 0; i < global.length; i++) acc[i] = global[i]! + deltaSum[i]! / sum.totalWeight;
    this.secureCovered = global.length;
  }

  /**
   * addSecureSum({ deltaSum: { ring } }) one slice of the weight vector at a time, so that the caller never
   * holds the whole sum (8 bytes a weight, twice the model): `ring` is the fixed-point sum of weights
   * [offset, offset + ring.length / 2). Slices come in order, each where the last ended, with the same
   * totalWeight and siteIds, until they cover the model (finish() refuses a partial sum). Each weight is
   * decoded with the same arithmetic as addSecureSum's, so the model is the same bits however it is sliced.
   */
  addSecureSumSlice(slice: {
    offset: number;
    ring: Uint32Array;
    totalWeight: number;
    siteIds: readonly string[];
  }): void {
    const { global } = this.context;
    const { offset, ring, totalWeight } = slice;
    if (offset === 0 && this.secureCovered === null) this.startSecureSum(totalWeight, slice.siteIds);
    else if (this.finished || offset !== this.secureCovered || totalWeight !== this.totalWeight)
      throw new AggregationError(
        `A slice of the secure sum must start at ${this.secureCovered ?? 0} with total weight ${this.totalWeight}, not at ${offset} with ${totalWeight}.`,
      );
    const length = ring.length / 2;
    if (!Number.isInteger(length) || offset + length > global.length)
      throw new AggregationError(
        `A slice of ${length} values at ${offset} does not fit the global model's ${global.length}.`,
        'UPDATE_LENGTH_MISMATCH',
      );
    const acc = this.acc;
    for (let j = 0; j < length; j++)
      acc[offset + j] = global[offset + j]! + fixedPointAt(ring, j) / totalWeight;
    this.secureCovered = offset + length;
  }

  private startSecureSum(totalWeight: number, siteIds: readonly string[]): void {
    if (this.finished || this.seen.size > 0)
      throw new AggregationError(
        'A secure sum replaces every add() of the round; this aggregator already has updates.',
      );
    if (siteIds.length === 0 || !(totalWeight > 0))
      throw new AggregationError(
        'A secure sum needs at least one site with a positive weight.',
        'NO_UPDATES',
      );
    if (this.central && totalWeight !== siteIds.length)
      throw new AggregationError(
        `With central DP every site weighs 1, so ${siteIds.length} sites weigh ${siteIds.length}, not ${totalWeight}.`,
      );
    this.totalWeight = totalWeight;
    for (const id of siteIds) this.seen.add(id);
  }

  /** Folds the pending updates (1 to 4) into the running mean in one pass over the accumulator. */
  private flush(): void {
    const group = this.pending;
    if (group.length === 0) return;
    const before = this.totalWeight;
    const after = before + group.reduce((t, u) => t + u.n, 0);
    const b = before / after;
    const c = group.map((u) => (u.n * u.s) / after);
    this.restMean = (before * this.restMean + group.reduce((t, u) => t + u.n * (1 - u.s), 0)) / after;
    this.totalWeight = after;
    const acc = this.acc;
    const len = acc.length;
    const w0 = group[0].weights;
    const c0 = c[0];
    if (group.length === 4) {
      const [w1, w2, w3] = [group[1].weights, group[2].weights, group[3].weights];
      const [c1, c2, c3] = [c[1], c[2], c[3]];
      for (let i = 0; i < len; i++) acc[i] = b * acc[i] + c0 * w0[i] + c1 * w1[i] + c2 * w2[i] + c3 * w3[i];
    } else if (group.length === 3) {
      const [w1, w2] = [group[1].weights, group[2].weights];
      const [c1, c2] = [c[1], c[2]];
      for (let i = 0; i < len; i++) acc[i] = b * acc[i] + c0 * w0[i] + c1 * w1[i] + c2 * w2[i];
    } else if (group.length === 2) {
      const w1 = group[1].weights;
      const c1 = c[1];
      for (let i = 0; i < len; i++) acc[i] = b * acc[i] + c0 * w0[i] + c1 * w1[i];
    } else {
      for (let i = 0; i < len; i++) acc[i] = b * acc[i] + c0 * w0[i];
    }
    this.pending = [];
  }

  finish(): { weights: Float32Array; state: StrategyState | null } {
    if (this.finished)
      throw new AggregationError('This round was already aggregated; create a new aggregator.');
    const count = this.seen.size;
    if (count === 0) throw new AggregationError('No updates to aggregate this round.', 'NO_UPDATES');
    if (this.secureCovered !== null && this.secureCovered !== this.context.global.length)
      throw new AggregationError(
        `The secure sum covers ${this.secureCovered} of the model's ${this.context.global.length} weights; send every slice before finish().`,
      );
    this.flush();
    this.finished = true;
    // One pass over P, not N: a diverged site's NaN/Infinity would otherwise become the global model.
    const bad = firstNonFinite(this.acc);
    if (bad >= 0) {
      throw new AggregationError(
        `An update held NaN or Infinity (parameter ${bad}); the round is not committed. Set strategy.updateNormBound to have such an update refused at add() with its site named.`,
        'UPDATE_NOT_FINITE',
      );
    }
    const { global, privacy, excludedRanges } = this.context;
    const out = this.acc;
    const r = this.restMean;
    const plain = this.strategy.name === 'fedavg' && !this.central && !excludedRanges?.length;
    if (plain) {
      if (r !== 0) for (let i = 0; i < out.length; i++) out[i] += r * global[i];
      return { weights: out, state: null };
    }
    // delta = mean - global, in place.
    for (let i = 0; i < out.length; i++) out[i] = out[i] + r * global[i] - global[i];
    if (privacy?.mode === 'central') {
      // Noise z*C on the sum is z*C/count on the mean.
      addGaussianNoise(
        out,
        (privacy.noiseMultiplier * privacy.clipNorm) / count,
        this.context.rng ?? cryptoRng(),
      );
    }
    for (const range of excludedRanges ?? []) out.fill(0, range.offset, range.offset + range.length);
    return this.serverStep(out);
  }

  private serverStep(delta: Float32Array): { weights: Float32Array; state: StrategyState | null } {
    const { global, state } = this.context;
    const s = this.strategy;
    switch (s.name) {
      case 'fedavg':
        for (let i = 0; i < delta.length; i++) delta[i] += global[i];
        return { weights: delta, state: null };
      case 'fedavgm':
        return { weights: delta, state: fedAvgM(delta, global, delta, state, s) };
      case 'fedadam':
        return { weights: delta, state: fedAdam(delta, global, delta, state, s) };
      case 'fedyogi':
        return { weights: delta, state: fedYogi(delta, global, delta, state, s) };
      case 'fedadagrad':
        return { weights: delta, state: fedAdagrad(delta, global, delta, state, s) };
    }
  }
}
