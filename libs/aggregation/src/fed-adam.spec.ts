import { StrategyConfig } from '@fedseg/protocol';
import { AggregationError } from './aggregation-error';
import { createAggregator } from './create-aggregator';
import { fedAdam } from './fed-adam';
import type { StrategyState } from './site-update';
import { maxAbsDiff, meanDeltaReference, randomUpdates, randomVector } from './testing/reference';

describe('fedAdam', () => {
  it('takes one Adam step from m = 0, v = tau^2 (hand-computed)', () => {
    const out = new Float32Array(1);
    const state = fedAdam(out, Float32Array.of(0), Float32Array.of(1), null, {
      serverLearningRate: 0.1,
      beta1: 0.9,
      beta2: 0.99,
      tau: 0.01,
    });
    // m = 0.1 * 1 = 0.1; v = 0.99 * 1e-4 + 0.01 * 1 = 0.010099; x = 0.1 * 0.1 / (sqrt(0.010099) + 0.01)
    //   = 0.01 / (0.100493781 + 0.01) = 0.0905028...
    expect(state.vectors.m[0]).toBeCloseTo(0.1, 7);
    expect(state.vectors.v[0]).toBeCloseTo(0.010099, 7);
    expect(out[0]).toBeCloseTo(0.01 / (Math.sqrt(0.010099) + 0.01), 6);
    expect(out[0]).toBeCloseTo(0.0905028, 6);
  });

  it('matches a float64 reference over three rounds through createAggregator', () => {
    const strategy = StrategyConfig.parse({ name: 'fedadam', serverLearningRate: 0.05, tau: 1e-2 });
    const { beta1, beta2, tau } = { beta1: 0.9, beta2: 0.99, tau: 1e-2 };
    const p = 3_001;
    let global = randomVector(p, 2);
    let state: StrategyState | null = null;
    let x = Array.from(global);
    let m = new Array<number>(p).fill(0);
    let v = new Array<number>(p).fill(tau * tau);
    for (let round = 0; round < 3; round++) {
      const updates = randomUpdates(4, p, 20 + round);
      const d = meanDeltaReference(x, updates);
      m = m.map((mi, i) => beta1 * mi + (1 - beta1) * d[i]);
      v = v.map((vi, i) => beta2 * vi + (1 - beta2) * d[i] * d[i]);
      x = x.map((xi, i) => xi + (0.05 * m[i]) / (Math.sqrt(v[i]) + tau));
      const agg = createAggregator(strategy, { global, state, expectedSites: 4 });
      updates.forEach((u) => agg.add(u));
      ({ weights: global, state } = agg.finish());
      expect(maxAbsDiff(global, x)).toBeLessThan(1e-6);
    }
    expect(maxAbsDiff(state!.vectors.v, v)).toBeLessThan(1e-6);
  });

  it('refuses a state written by another strategy or model', () => {
    const strategy = StrategyConfig.parse({ name: 'fedadam' });
    const global = new Float32Array(4);
    const momentumOnly: StrategyState = { step: 1, vectors: { momentum: new Float32Array(4) } };
    const agg = createAggregator(strategy, { global, state: momentumOnly, expectedSites: 1 });
    agg.add({ siteId: 'a', samples: 1, weights: new Float32Array(4) });
    expect(() => agg.finish()).toThrow(AggregationError);
    const shortState: StrategyState = {
      step: 1,
      vectors: { m: new Float32Array(3), v: new Float32Array(3) },
    };
    const agg2 = createAggregator(strategy, { global, state: shortState, expectedSites: 1 });
    agg2.add({ siteId: 'a', samples: 1, weights: new Float32Array(4) });
    expect(() => agg2.finish()).toThrow(/another model/);
  });
});
