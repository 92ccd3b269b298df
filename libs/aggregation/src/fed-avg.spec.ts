import { StrategyConfig } from '@fedseg/protocol';
import { AggregationError, UpdateLengthError } from './aggregation-error';
import { createAggregator } from './create-aggregator';
import { fedAvg } from './fed-avg';
import { maxAbsDiff, randomUpdates, randomVector, toF64 } from './testing/reference';

/** Float64 reference: sum(n_k w_k) / sum(n_k), straight from the definition. */
function fedAvgReference(updates: { samples: number; w: number[] }[]): number[] {
  const total = updates.reduce((s, u) => s + u.samples, 0);
  return updates[0].w.map((_, i) => updates.reduce((s, u) => s + u.samples * u.w[i], 0) / total);
}

describe('fedAvg', () => {
  it('weights each site by its samples (hand-computed)', () => {
    const out = new Float32Array(2);
    fedAvg(out, [
      { siteId: 'a', samples: 1, weights: Float32Array.of(1, 2) },
      { siteId: 'b', samples: 3, weights: Float32Array.of(5, -2) },
    ]);
    // (1*1 + 3*5)/4 = 4, (1*2 + 3*-2)/4 = -1
    expect(Array.from(out)).toEqual([4, -1]);
  });

  it('matches the float64 reference on random inputs to 1e-6', () => {
    const updates = randomUpdates(7, 10_001, 1);
    const out = fedAvg(new Float32Array(10_001), updates);
    expect(maxAbsDiff(out, fedAvgReference(toF64(updates)))).toBeLessThan(1e-6);
  });

  it('refuses a round with no samples and an update of the wrong length', () => {
    expect(() =>
      fedAvg(new Float32Array(2), [{ siteId: 'a', samples: 0, weights: new Float32Array(2) }]),
    ).toThrow(AggregationError);
    expect(() =>
      fedAvg(new Float32Array(2), [{ siteId: 'a', samples: 1, weights: new Float32Array(3) }]),
    ).toThrow(UpdateLengthError);
  });
});

describe('createAggregator with fedavg', () => {
  const fedavg = StrategyConfig.parse({ name: 'fedavg' });

  it('streams updates to the same answer as the float64 reference, leaving inputs untouched', () => {
    const global = randomVector(5_000, 9);
    const updates = randomUpdates(16, 5_000, 2);
    const copies = updates.map((u) => u.weights.slice());
    const agg = createAggregator(fedavg, { global, state: null, expectedSites: 16 });
    for (const u of updates) agg.add(u);
    const { weights, state } = agg.finish();
    expect(state).toBeNull();
    expect(maxAbsDiff(weights, fedAvgReference(toF64(updates)))).toBeLessThan(1e-6);
    updates.forEach((u, k) => expect(u.weights).toEqual(copies[k]));
  });

  it('refuses a second update from the same site and an aggregation with none', () => {
    const global = new Float32Array(3);
    const agg = createAggregator(fedavg, { global, state: null, expectedSites: 2 });
    agg.add({ siteId: 'a', samples: 1, weights: new Float32Array(3) });
    expect(() => agg.add({ siteId: 'a', samples: 1, weights: new Float32Array(3) })).toThrow(/two updates/);
    expect(() => createAggregator(fedavg, { global, state: null, expectedSites: 1 }).finish()).toThrow(
      /No updates/,
    );
  });

  it('bounds each update norm around the global weights (hand-computed)', () => {
    const strategy = StrategyConfig.parse({ name: 'fedavg', updateNormBound: 1 });
    const global = Float32Array.of(0, 0);
    const agg = createAggregator(strategy, { global, state: null, expectedSites: 2 });
    agg.add({ siteId: 'a', samples: 1, weights: Float32Array.of(3, 4) }); // norm 5 -> (0.6, 0.8)
    agg.add({ siteId: 'b', samples: 1, weights: Float32Array.of(0.5, 0) }); // within the bound
    const { weights } = agg.finish();
    expect(weights[0]).toBeCloseTo(0.55, 6);
    expect(weights[1]).toBeCloseTo(0.4, 6);
  });

  it('keeps excluded (FedBN) ranges at their global values', () => {
    const global = Float32Array.of(1, 1, 1, 1);
    const agg = createAggregator(fedavg, {
      global,
      state: null,
      expectedSites: 1,
      excludedRanges: [{ offset: 1, length: 2 }],
    });
    agg.add({ siteId: 'a', samples: 1, weights: Float32Array.of(3, 3, 3, 3) });
    expect(Array.from(agg.finish().weights)).toEqual([3, 1, 1, 3]);
  });
});
