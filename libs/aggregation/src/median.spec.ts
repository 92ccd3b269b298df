import { StrategyConfig } from '@fedseg/protocol';
import { AggregationError } from './aggregation-error';
import { createAggregator } from './create-aggregator';
import { median } from './median';
import { maxAbsDiff, randomUpdates } from './testing/reference';

/** Float64 reference: sort each coordinate's values with Array.prototype.sort and take the middle. */
function medianReference(ws: number[][]): number[] {
  return ws[0].map((_, i) => {
    const col = ws.map((w) => w[i]).sort((a, b) => a - b);
    const n = col.length;
    return n % 2 === 1 ? col[(n - 1) / 2] : (col[n / 2 - 1] + col[n / 2]) / 2;
  });
}

const site = (id: string, ...w: number[]) => ({ siteId: id, samples: 1, weights: Float32Array.from(w) });

describe('median', () => {
  it('takes the middle value per coordinate, the mean of the two middle ones for even N (hand-computed)', () => {
    const odd = median(new Float32Array(2), [site('a', 1, 10), site('b', 100, -3), site('c', 2, 4)]);
    expect(Array.from(odd)).toEqual([2, 4]);
    const even = median(new Float32Array(1), [site('a', 1), site('b', 7), site('c', 3), site('d', 100)]);
    expect(even[0]).toBe(5);
  });

  it.each([1, 2, 5, 16, 51])('matches the float64 reference on random inputs, N = %i', (n) => {
    const updates = randomUpdates(n, 2_000, 50 + n);
    const out = median(new Float32Array(2_000), updates);
    expect(maxAbsDiff(out, medianReference(updates.map((u) => Array.from(u.weights))))).toBeLessThan(1e-6);
  });

  it('ignores sample counts (a site cannot buy influence) and works through createAggregator', () => {
    const agg = createAggregator(StrategyConfig.parse({ name: 'median' }), {
      global: new Float32Array(1),
      state: null,
      expectedSites: 3,
    });
    agg.add({ siteId: 'a', samples: 1, weights: Float32Array.of(1) });
    agg.add({ siteId: 'b', samples: 1, weights: Float32Array.of(2) });
    agg.add({ siteId: 'evil', samples: 1e9, weights: Float32Array.of(1000) });
    expect(agg.finish()).toEqual({ weights: Float32Array.of(2), state: null });
  });

  it('refuses a round whose buffered updates would exceed the memory bound, before any arrive', () => {
    expect(() =>
      createAggregator(StrategyConfig.parse({ name: 'median' }), {
        global: new Float32Array(1000),
        state: null,
        expectedSites: 10,
        maxBufferedBytes: 39_999,
      }),
    ).toThrow(AggregationError);
  });
});
