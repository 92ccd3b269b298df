import { StrategyConfig } from '@fedseg/protocol';
import { createAggregator } from './create-aggregator';
import { fedAvgM } from './fed-avg-m';
import type { StrategyState } from './site-update';
import { maxAbsDiff, meanDeltaReference, randomUpdates, randomVector } from './testing/reference';

describe('fedAvgM', () => {
  it('applies server momentum (hand-computed)', () => {
    const out = new Float32Array(1);
    const opts = { serverLearningRate: 0.5, serverMomentum: 0.9 };
    // round 1: u = 0.9*0 + 2 = 2, x = 1 + 0.5*2 = 2
    const s1 = fedAvgM(out, Float32Array.of(1), Float32Array.of(2), null, opts);
    expect(out[0]).toBeCloseTo(2, 7);
    // round 2: u = 0.9*2 + (-1) = 0.8, x = 2 + 0.5*0.8 = 2.4
    const s2 = fedAvgM(out, Float32Array.of(2), Float32Array.of(-1), s1, opts);
    expect(out[0]).toBeCloseTo(2.4, 6);
    expect(s2.step).toBe(2);
    expect(s1.vectors.momentum[0]).toBe(2); // the previous state is not modified
  });

  it('matches a float64 reference over three rounds through createAggregator, state passed back each round', () => {
    const strategy = StrategyConfig.parse({ name: 'fedavgm', serverLearningRate: 0.7, serverMomentum: 0.8 });
    const p = 3_001;
    let global = randomVector(p, 1);
    let state: StrategyState | null = null;
    let refX = Array.from(global);
    let refU = new Array<number>(p).fill(0);
    for (let round = 0; round < 3; round++) {
      const updates = randomUpdates(5, p, 10 + round);
      const delta = meanDeltaReference(refX, updates);
      refU = refU.map((u, i) => 0.8 * u + delta[i]);
      refX = refX.map((x, i) => x + 0.7 * refU[i]);
      const agg = createAggregator(strategy, { global, state, expectedSites: 5 });
      updates.forEach((u) => agg.add(u));
      const result = agg.finish();
      global = result.weights;
      state = result.state;
      expect(maxAbsDiff(global, refX)).toBeLessThan(1e-6);
    }
    expect(state?.step).toBe(3);
  });
});
