import { AggregationError } from './aggregation-error';
import type { StrategyState } from './site-update';

/**
 * Reads a named vector of a checkpointed server state, or a fresh one filled with `initial` when the study
 * has no state yet (first round). A vector of the wrong length means the state belongs to another model.
 */
export function stateVector(
  state: StrategyState | null,
  name: string,
  length: number,
  initial: number,
): Float32Array {
  if (state === null) return new Float32Array(length).fill(initial);
  const v = state.vectors[name];
  if (v === undefined) {
    throw new AggregationError(
      `Server state has no "${name}" vector (it has ${Object.keys(state.vectors).join(', ') || 'none'}); it was written by another strategy. Restart the study or restore the matching checkpoint.`,
      'STRATEGY_STATE_INVALID',
    );
  }
  if (v.length !== length) {
    throw new AggregationError(
      `Server state vector "${name}" has ${v.length} values but the model has ${length}; it belongs to another model.`,
      'STRATEGY_STATE_INVALID',
    );
  }
  return v;
}

/** Hyperparameters shared by FedAdam and FedYogi (Reddi et al., 2021). */
export interface FedOptOptions {
  serverLearningRate: number;
  beta1: number;
  beta2: number;
  tau: number;
}
