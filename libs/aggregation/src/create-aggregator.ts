import { MEAN_BASED_STRATEGIES, type PrivacyConfig, type StrategyConfig } from '@fedseg/protocol';
import { AggregationError } from './aggregation-error';
import type { AggregatorContext } from './aggregator-context';
import { BufferedAggregator } from './buffered-aggregator';
import type { Aggregator } from './site-update';
import { StreamingAggregator } from './streaming-aggregator';

/**
 * Refuses combinations that cannot keep their promise. Central DP bounds a site's influence on a *mean*;
 * median, trimmed mean and Krum pick or order values, so the Gaussian noise calibrated to C no longer gives
 * the stated epsilon. Local DP works with every strategy (its guarantee holds before the update leaves the
 * site). The coordinator should call this when a study is created, to refuse the config there.
 */
export function checkStrategyPrivacy(strategy: StrategyConfig, privacy: PrivacyConfig | undefined): void {
  if (privacy?.mode === 'central' && !(MEAN_BASED_STRATEGIES as readonly string[]).includes(strategy.name)) {
    throw new AggregationError(
      `Central DP needs a mean-based strategy (${MEAN_BASED_STRATEGIES.join(', ')}), not ${strategy.name}; use privacy mode "local" with ${strategy.name}.`,
      'STRATEGY_PRIVACY_INCOMPATIBLE',
      { field: 'privacy.mode' },
    );
  }
}

function checkRanges(context: AggregatorContext): void {
  for (const r of context.excludedRanges ?? []) {
    if (
      !Number.isInteger(r.offset) ||
      !Number.isInteger(r.length) ||
      r.offset < 0 ||
      r.length < 0 ||
      r.offset + r.length > context.global.length
    ) {
      throw new AggregationError(
        `Excluded range [${r.offset}, ${r.offset + r.length}) lies outside the ${context.global.length} weights.`,
      );
    }
  }
}

/**
 * The coordinator's entry point: one aggregator per round. Streaming for fedavg, fedavgm, fedadam, fedyogi,
 * fedadagrad (O(P) memory whatever N); buffered (N * P * 4 bytes, bounded) for median, trimmed-mean, krum,
 * multi-krum.
 */
export function createAggregator(strategy: StrategyConfig, context: AggregatorContext): Aggregator {
  if (!Number.isInteger(context.expectedSites) || context.expectedSites < 0) {
    throw new AggregationError(`expectedSites must be a non-negative integer, got ${context.expectedSites}.`);
  }
  checkStrategyPrivacy(strategy, context.privacy);
  checkRanges(context);
  switch (strategy.name) {
    case 'fedavg':
    case 'fedavgm':
    case 'fedadam':
    case 'fedyogi':
    case 'fedadagrad':
      return new StreamingAggregator(strategy, context);
    case 'median':
    case 'trimmed-mean':
    case 'krum':
    case 'multi-krum':
      return new BufferedAggregator(strategy, context);
  }
}
