import { StrategyConfig } from '@fedseg/protocol';
import { createAggregator } from './create-aggregator';
import { fedYogi } from './fed-yogi';
import type { StrategyState } from './site-update';
import { maxAbsDiff, meanDeltaReference, randomUpdates, randomVector } from './testing/reference';

describe('fedYogi', () => {
  it('moves v additively towards delta^2 (hand-computed)', () => {
    const out = new Float32Array(1);
    const opts = { serverLearningRate: 0.1, beta1: 0.9, beta2: 0.99, tau: 0.01 };
    // v0 = 1e-4 < d^2 = 1: v = 1e-4 - 0.01 * 1 * sign(1e-4 - 1) = 0.0101; m = 0.1
    const s = fedYogi(out, Float32Array.of(0), Float32Array.of(1), null, opts);
    expect(s.vectors.v[0]).toBeCloseTo(0.0101, 7);
    expect(out[0]).toBeCloseTo(0.01 / (Math.sqrt(0.0101) + 0.01), 6);
    // second round, d = 0: v = 0.0101 - 0.01 * 0 = 0.0101 (unchanged), m = 0.09
    fedYogi(out, Float32Array.of(0), Float32Array.of(0), s, opts);
    expect(out[0]).toBeCloseTo((0.1 * 0.09) / (Math.sqrt(0.0101) + 0.01), 6);
  });

  it('matches a float64 reference over three rounds through createAggregator', () => {
    const strategy = StrategyConfig.parse({ name: 'fedyogi', serverLearningRate: 0.03, tau: 1e-2 });
    const tau = 1e-2;
    const p = 2_001;
    let global = randomVector(p, 3);
    let state: StrategyState | null = null;
    let x = Array.from(global);
    let m = new Array<number>(p).fill(0);
    let v = new Array<number>(p).fill(tau * tau);
    for (let round = 0; round < 3; round++) {
      const updates = randomUpdates(6, p, 30 + round);
      const d = meanDeltaReference(x, updates);
      m = m.map((mi, i) => 0.9 * mi + 0.1 * d[i]);
      v = v.map((vi, i) => vi - 0.01 * d[i] * d[i] * Math.sign(vi - d[i] * d[i]));
      x = x.map((xi, i) => xi + (0.03 * m[i]) / (Math.sqrt(v[i]) + tau));
      const agg = createAggregator(strategy, { global, state, expectedSites: 6 });
      updates.forEach((u) => agg.add(u));
      ({ weights: global, state } = agg.finish());
      expect(maxAbsDiff(global, x)).toBeLessThan(1e-6);
    }
  });
});
