import { StrategyConfig } from '@fedseg/protocol';
import { createAggregator } from './create-aggregator';
import { trimCount, trimmedMean } from './trimmed-mean';
import { maxAbsDiff, randomUpdates } from './testing/reference';

/** Float64 reference: sort each coordinate, drop floor(beta N) from each end, average the rest. */
function trimmedMeanReference(ws: number[][], beta: number): number[] {
  const b = Math.floor(beta * ws.length + 1e-9);
  return ws[0].map((_, i) => {
    const kept = ws
      .map((w) => w[i])
      .sort((x, y) => x - y)
      .slice(b, ws.length - b);
    return kept.reduce((s, x) => s + x, 0) / kept.length;
  });
}

describe('trimmedMean', () => {
  it('drops the extremes at each coordinate (hand-computed)', () => {
    const updates = [1, 2, 3, 4, 100].map((v, k) => ({
      siteId: `s${k}`,
      samples: 1,
      weights: Float32Array.of(v, -v),
    }));
    // beta 0.2, N 5 -> b = 1: mean(2, 3, 4) = 3 and mean(-4, -3, -2) = -3
    expect(Array.from(trimmedMean(new Float32Array(2), updates, 0.2))).toEqual([3, -3]);
    expect(trimCount(5, 0.2)).toBe(1);
    expect(trimCount(10, 0.3)).toBe(3);
  });

  it.each([
    [4, 0.1],
    [10, 0.2],
    [16, 0.25],
    [33, 0.45],
  ])('matches the float64 reference on random inputs, N = %i, beta = %f', (n, beta) => {
    const updates = randomUpdates(n, 2_000, 60 + n);
    const out = trimmedMean(new Float32Array(2_000), updates, beta);
    expect(
      maxAbsDiff(
        out,
        trimmedMeanReference(
          updates.map((u) => Array.from(u.weights)),
          beta,
        ),
      ),
    ).toBeLessThan(1e-6);
  });

  it('is the plain mean with beta 0, through createAggregator', () => {
    const agg = createAggregator(StrategyConfig.parse({ name: 'trimmed-mean', beta: 0 }), {
      global: new Float32Array(1),
      state: null,
      expectedSites: 2,
    });
    agg.add({ siteId: 'a', samples: 5, weights: Float32Array.of(1) });
    agg.add({ siteId: 'b', samples: 1, weights: Float32Array.of(2) });
    expect(agg.finish().weights[0]).toBe(1.5);
  });
});
