/** One site's contribution to a round: its full local weights after training (not a delta). */
export interface SiteUpdate {
  siteId: string;
  /** Training samples behind the update (FedAvg weight); must be positive. */
  samples: number;
  weights: Float32Array;
}

/**
 * Server-side optimizer state, checkpointed by the coordinator next to the global weights and passed back
 * the next round (FedAdam m and v, FedAvgM momentum). `step` counts the rounds that updated it.
 */
export interface StrategyState {
  step: number;
  vectors: Record<string, Float32Array>;
  scalars?: Record<string, number>;
}

export interface Aggregator {
  /**
   * Adds one site's update. Streaming strategies (FedAvg, FedAvgM, FedAdam, FedYogi, FedAdagrad) hold at
   * most 3 updates by reference and fold them in groups of 4; buffered ones (median, trimmed mean, Krum,
   * Multi-Krum) keep every array until finish(). Either way the caller must not modify an array after
   * adding it; the aggregator never modifies it.
   */
  add(update: SiteUpdate): void;
  /** Returns the new global weights and the next server state (null for stateless strategies). */
  finish(): { weights: Float32Array; state: StrategyState | null };
}

/** A slice [offset, offset + length) of the flat weight vector. */
export interface WeightRange {
  offset: number;
  length: number;
}
