import { StrategyConfig } from '@fedseg/protocol';
import { createAggregator } from './create-aggregator';
import { multiKrum } from './multi-krum';
import { maxAbsDiff, randomUpdates } from './testing/reference';

/** Float64 reference: Krum scores, then the plain mean of the m best. */
function multiKrumReference(ws: number[][], f: number, m: number): number[] {
  const scores = ws.map((a, k) =>
    ws
      .filter((_, j) => j !== k)
      .map((b) => a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0))
      .sort((x, y) => x - y)
      .slice(0, ws.length - f - 2)
      .reduce((s, x) => s + x, 0),
  );
  const best = scores
    .map((s, k) => [s, k])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .slice(0, m)
    .map(([, k]) => k);
  return ws[0].map((_, i) => best.reduce((s, k) => s + ws[k][i], 0) / m);
}

describe('multiKrum', () => {
  it('averages the m best-scored updates (hand-computed)', () => {
    // points 0, 1, 2, 3, 100, f = 1: scores 5, 2, 2, 5, 19013 -> m = 3 keeps 1, 2 and 0 (tie 0/3: lower index)
    const updates = [0, 1, 2, 3, 100].map((v, k) => ({
      siteId: `s${k}`,
      samples: 1,
      weights: Float32Array.of(v),
    }));
    const { out, selected } = multiKrum(new Float32Array(1), updates, 1, 3);
    expect(out[0]).toBe(1);
    expect(selected).toEqual(['s1', 's2', 's0']);
  });

  it('matches the float64 reference on random inputs', () => {
    const updates = randomUpdates(11, 2_000, 80);
    const ref = multiKrumReference(
      updates.map((u) => Array.from(u.weights)),
      3,
      5,
    );
    expect(maxAbsDiff(multiKrum(new Float32Array(2_000), updates, 3, 5).out, ref)).toBeLessThan(1e-6);
  });

  it('keeps N - f updates by default through createAggregator', () => {
    const agg = createAggregator(StrategyConfig.parse({ name: 'multi-krum' }), {
      global: new Float32Array(1),
      state: null,
      expectedSites: 5,
    });
    [0, 1, 2, 3, 100].forEach((v, k) =>
      agg.add({ siteId: `s${k}`, samples: 1, weights: Float32Array.of(v) }),
    );
    expect(agg.finish().weights[0]).toBe(1.5); // mean of 0, 1, 2, 3
  });
});
