import { StrategyConfig } from '@fedseg/protocol';
import { AggregationError } from './aggregation-error';
import { BufferedAggregator } from './buffered-aggregator';
import { createAggregator } from './create-aggregator';
import { krum, krumScores, pairwiseSquaredDistances } from './krum';
import { randomUpdates } from './testing/reference';

/** Float64 reference: score(k) = sum of the N - f - 2 smallest squared distances to the others. */
function krumScoresReference(ws: number[][], f: number): number[] {
  return ws.map((a, k) => {
    const d = ws
      .filter((_, j) => j !== k)
      .map((b) => a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0))
      .sort((x, y) => x - y);
    return d.slice(0, ws.length - f - 2).reduce((s, x) => s + x, 0);
  });
}

const site = (id: string, ...w: number[]) => ({ siteId: id, samples: 1, weights: Float32Array.from(w) });

describe('krum', () => {
  it('scores each update by its nearest neighbours and picks the best (hand-computed)', () => {
    // 1-D points 0, 1, 2, 3, 100 with f = 1: each score sums the 2 nearest squared distances.
    // 0: 1 + 4 = 5; 1: 1 + 1 = 2; 2: 1 + 1 = 2; 3: 1 + 4 = 5; 100: 97^2 + 98^2 = 19013
    const updates = [0, 1, 2, 3, 100].map((v, k) => site(`s${k}`, v));
    expect(Array.from(krumScores(updates, 1))).toEqual([5, 2, 2, 5, 19013]);
    const { out, selected } = krum(new Float32Array(1), updates, 1);
    expect(out[0]).toBe(1); // tie between s1 and s2: the lower index
    expect(selected).toEqual(['s1']);
  });

  it('matches the float64 reference scores on random inputs', () => {
    const updates = randomUpdates(9, 3_000, 70);
    const ref = krumScoresReference(
      updates.map((u) => Array.from(u.weights)),
      2,
    );
    const got = krumScores(updates, 2);
    ref.forEach((r, k) => expect(Math.abs(got[k] - r) / r).toBeLessThan(1e-9));
    const d = pairwiseSquaredDistances(updates);
    expect(d[1 * 9 + 4]).toBe(d[4 * 9 + 1]);
    const best = ref.indexOf(Math.min(...ref));
    expect(krum(new Float32Array(3_000), updates, 2).out).toEqual(updates[best].weights);
  });

  it('refuses fewer than 2f + 3 updates, saying what to change', () => {
    const agg = createAggregator(StrategyConfig.parse({ name: 'krum', byzantine: 2 }), {
      global: new Float32Array(1),
      state: null,
      expectedSites: 6,
    });
    for (let k = 0; k < 6; k++) agg.add(site(`s${k}`, k));
    expect(() => agg.finish()).toThrow(AggregationError);
    expect(() => krumScores([site('a', 0), site('b', 1)], 0)).toThrow(/at least 3 updates/);
  });

  it('reports which site it chose', () => {
    const agg = createAggregator(StrategyConfig.parse({ name: 'krum' }), {
      global: new Float32Array(1),
      state: null,
      expectedSites: 5,
    });
    [0, 1, 2, 3, 100].forEach((v, k) => agg.add(site(`s${k}`, v)));
    expect(agg.finish().weights[0]).toBe(1);
    expect((agg as BufferedAggregator).selected).toEqual(['s1']);
  });
});
