import { stateVector, type FedOptOptions } from './server-state';
import type { StrategyState } from './site-update';

// Math functions bound once: hot loops then skip a global lookup, which is slow inside jest's vm context.
const { sqrt, sign } = Math;

/**
 * FedYogi (Reddi et al., 2021, "Adaptive Federated Optimization", Algorithm 2; Yogi: Zaheer et al., 2018),
 * on delta = mean(w_k) - x:
 *   m' = b1 m + (1 - b1) delta;   v' = v - (1 - b2) delta^2 sign(v - delta^2);   out = x + eta m' / (sqrt(v') + tau)
 * First round: m = 0, v = tau^2. `state` is not modified; the next state is returned.
 */
export function fedYogi(
  out: Float32Array,
  global: Float32Array,
  delta: Float32Array,
  state: StrategyState | null,
  options: FedOptOptions,
): StrategyState {
  const n = global.length;
  const { serverLearningRate: eta, beta1, beta2, tau } = options;
  const m0 = stateVector(state, 'm', n, 0);
  const v0 = stateVector(state, 'v', n, tau * tau);
  const m = new Float32Array(n);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const d = delta[i];
    const d2 = d * d;
    const mi = beta1 * m0[i] + (1 - beta1) * d;
    const vi = v0[i] - (1 - beta2) * d2 * sign(v0[i] - d2);
    m[i] = mi;
    v[i] = vi;
    out[i] = global[i] + (eta * mi) / (sqrt(vi) + tau);
  }
  return { step: (state?.step ?? 0) + 1, vectors: { m, v } };
}
