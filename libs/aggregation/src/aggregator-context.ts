import type { PrivacyConfig } from '@fedseg/protocol';
import type { Rng } from './rng';
import type { StrategyState, WeightRange } from './site-update';

/** What createAggregator needs besides the strategy. */
export interface AggregatorContext {
  /** The global weights the sites trained from (this round's task). Never modified. */
  global: Float32Array;
  /** The server state checkpointed with `global` (null on the first round and for stateless strategies). */
  state: StrategyState | null;
  /** Sites expected this round; buffered strategies check their memory bound against it up front. */
  expectedSites: number;
  /**
   * Central DP (`mode: 'central'`): updates are clipped to C, averaged with equal weights, and N(0, (zC)^2)
   * noise is added to their sum. `local` and `none` change nothing here (local noise was added at the sites).
   */
  privacy?: PrivacyConfig;
  /** Noise source for central DP; the operating system's CSPRNG when absent. */
  rng?: Rng;
  /** FedBN: slices (normalization parameters) that keep their global values and get no server update. */
  excludedRanges?: readonly WeightRange[];
  /**
   * Streaming strategies: where to build the new model (their accumulator, returned by finish()), e.g. the
   * payload of the blob it will be stored as (allocateWeightsBlob), so that storing it copies nothing. Its
   * contents are overwritten. Allocated when absent; buffered strategies ignore it.
   */
  out?: Float32Array;
  /** Bound on the bytes a buffered strategy may hold (N * P * 4); default 8 GiB. */
  maxBufferedBytes?: number;
}

export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 ** 3;
