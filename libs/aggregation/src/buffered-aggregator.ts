import type { StrategyConfig } from '@fedseg/protocol';
import { AggregationError, assertLength } from './aggregation-error';
import { DEFAULT_MAX_BUFFERED_BYTES, type AggregatorContext } from './aggregator-context';
import { clipScale, distanceNorm, firstNonFinite } from './clip-update';
import { krum } from './krum';
import { median } from './median';
import { multiKrum } from './multi-krum';
import { trimmedMean } from './trimmed-mean';
import type { Aggregator, SiteUpdate, StrategyState } from './site-update';

type BufferedStrategy = Extract<StrategyConfig, { name: 'median' | 'trimmed-mean' | 'krum' | 'multi-krum' }>;

/**
 * Robust strategies need every update at once (a per-coordinate order statistic, or pairwise distances):
 * they hold N arrays of P float32 (N * P * 4 bytes, e.g. 640 MB for N = 16, P = 10M) until finish(), bounded
 * by `maxBufferedBytes` (default 8 GiB), checked against `expectedSites` up front and on every add.
 * The caller's arrays are kept by reference (no copy) unless update-norm bounding scales one, then a
 * bounded copy replaces it.
 */
export class BufferedAggregator implements Aggregator {
  private readonly updates: SiteUpdate[] = [];
  private readonly maxBytes: number;
  private finished = false;
  /** Sites whose update Krum / Multi-Krum chose in the last finish() (for the audit log). */
  selected: string[] = [];

  constructor(
    private readonly strategy: BufferedStrategy,
    private readonly context: AggregatorContext,
  ) {
    this.maxBytes = context.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    const need = context.expectedSites * context.global.length * 4;
    if (need > this.maxBytes) {
      throw new AggregationError(
        `Strategy ${strategy.name} holds every update in memory: ${context.expectedSites} sites x ${context.global.length} parameters needs ${need} bytes, over the bound of ${this.maxBytes}. Use fedavg/fedadam (streaming) or fewer sites per round.`,
        'AGGREGATION_MEMORY_BOUND',
        { needBytes: need, maxBytes: this.maxBytes },
      );
    }
  }

  add(update: SiteUpdate): void {
    if (this.finished)
      throw new AggregationError('This round was already aggregated; create a new aggregator.');
    const { global } = this.context;
    assertLength(update.weights, global.length, update.siteId);
    if (this.updates.some((u) => u.siteId === update.siteId)) {
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
    if ((this.updates.length + 1) * global.length * 4 > this.maxBytes) {
      throw new AggregationError(
        `Holding ${this.updates.length + 1} updates of ${global.length} parameters exceeds the bound of ${this.maxBytes} bytes for ${this.strategy.name}.`,
        'AGGREGATION_MEMORY_BOUND',
      );
    }
    const bad = firstNonFinite(update.weights);
    if (bad >= 0) {
      throw new AggregationError(
        `Update from site ${update.siteId} holds ${update.weights[bad]} at parameter ${bad}; its training diverged.`,
        'UPDATE_NOT_FINITE',
        { siteId: update.siteId },
      );
    }
    let weights = update.weights;
    const bound = this.strategy.updateNormBound;
    if (bound !== undefined) {
      const s = clipScale(distanceNorm(weights, global), bound, update.siteId);
      if (s < 1) {
        weights = new Float32Array(global.length);
        const w = update.weights;
        for (let i = 0; i < weights.length; i++) weights[i] = global[i] + s * (w[i] - global[i]);
      }
    }
    this.updates.push({ siteId: update.siteId, samples: update.samples, weights });
  }

  finish(): { weights: Float32Array; state: StrategyState | null } {
    if (this.finished)
      throw new AggregationError('This round was already aggregated; create a new aggregator.');
    if (this.updates.length === 0)
      throw new AggregationError('No updates to aggregate this round.', 'NO_UPDATES');
    this.finished = true;
    const { global, excludedRanges } = this.context;
    const out = new Float32Array(global.length);
    const s = this.strategy;
    switch (s.name) {
      case 'median':
        median(out, this.updates);
        break;
      case 'trimmed-mean':
        trimmedMean(out, this.updates, s.beta);
        break;
      case 'krum':
        this.selected = krum(out, this.updates, s.byzantine).selected;
        break;
      case 'multi-krum':
        this.selected = multiKrum(
          out,
          this.updates,
          s.byzantine,
          s.keep ?? this.updates.length - s.byzantine,
        ).selected;
        break;
    }
    for (const r of excludedRanges ?? []) out.set(global.subarray(r.offset, r.offset + r.length), r.offset);
    this.updates.length = 0;
    return { weights: out, state: null };
  }
}
