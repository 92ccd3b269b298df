import { stateVector } from './server-state';
import type { StrategyState } from './site-update';

export interface FedAvgMOptions {
  serverLearningRate: number;
  serverMomentum: number;
}

/**
 * FedAvgM (Hsu, Qi & Brown, 2019, "Measuring the Effects of Non-Identical Data Distribution for Federated
 * Visual Classification"): server momentum on the averaged update delta = mean(w_k) - x.
 *   u' = beta * u + delta;   out = x + eta * u'
 * `state` is not modified; the next state is returned. `out` may be the same array as `delta`.
 */
export function fedAvgM(
  out: Float32Array,
  global: Float32Array,
  delta: Float32Array,
  state: StrategyState | null,
  options: FedAvgMOptions,
): StrategyState {
  const prev = stateVector(state, 'momentum', global.length, 0);
  const momentum = new Float32Array(global.length);
  const { serverLearningRate: eta, serverMomentum: beta } = options;
  for (let i = 0; i < global.length; i++) {
    const u = beta * prev[i] + delta[i];
    momentum[i] = u;
    out[i] = global[i] + eta * u;
  }
  return { step: (state?.step ?? 0) + 1, vectors: { momentum } };
}
