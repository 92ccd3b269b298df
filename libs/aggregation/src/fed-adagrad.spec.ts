import { StrategyConfig } from '@fedseg/protocol';
import { createAggregator } from './create-aggregator';
import { fedAdagrad } from './fed-adagrad';
import type { StrategyState } from './site-update';
import { maxAbsDiff, meanDeltaReference, randomUpdates, randomVector } from './testing/reference';

describe('fedAdagrad', () => {
  it('accumulates squared updates without decay (hand-computed)', () => {
    const out = new Float32Array(1);
    const opts = { serverLearningRate: 0.1, beta1: 0, tau: 0.5 };
    // v = 0.25 + 1.5^2 = 2.5; m = 1.5; x = 1 + 0.1 * 1.5 / (sqrt(2.5) + 0.5)
    const s = fedAdagrad(out, Float32Array.of(1), Float32Array.of(1.5), null, opts);
    expect(s.vectors.v[0]).toBeCloseTo(2.5, 6);
    expect(out[0]).toBeCloseTo(1 + 0.15 / (Math.sqrt(2.5) + 0.5), 6);
  });

  it('matches a float64 reference over three rounds through createAggregator', () => {
    const strategy = StrategyConfig.parse({
      name: 'fedadagrad',
      serverLearningRate: 0.02,
      beta1: 0.5,
      tau: 1e-2,
    });
    const tau = 1e-2;
    const p = 2_001;
    let global = randomVector(p, 4);
    let state: StrategyState | null = null;
    let x = Array.from(global);
    let m = new Array<number>(p).fill(0);
    let v = new Array<number>(p).fill(tau * tau);
    for (let round = 0; round < 3; round++) {
      const updates = randomUpdates(3, p, 40 + round);
      const d = meanDeltaReference(x, updates);
      m = m.map((mi, i) => 0.5 * mi + 0.5 * d[i]);
      v = v.map((vi, i) => vi + d[i] * d[i]);
      x = x.map((xi, i) => xi + (0.02 * m[i]) / (Math.sqrt(v[i]) + tau));
      const agg = createAggregator(strategy, { global, state, expectedSites: 3 });
      updates.forEach((u) => agg.add(u));
      ({ weights: global, state } = agg.finish());
      expect(maxAbsDiff(global, x)).toBeLessThan(1e-6);
    }
  });
});
