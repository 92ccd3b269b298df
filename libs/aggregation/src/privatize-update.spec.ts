import { PrivacyConfig, StrategyConfig } from '@fedseg/protocol';
import { l2Norm } from './clip-update';
import { createAggregator } from './create-aggregator';
import { addGaussianNoise } from './gaussian-noise';
import { privatizeUpdate } from './privatize-update';
import { seededRng } from './rng';
import { maxAbsDiff, randomUpdates, randomVector } from './testing/reference';

const dp = { clipNorm: 0.5, noiseMultiplier: 2, epsilonBudget: 10 };

describe('privatizeUpdate (site side)', () => {
  it('clips only for central DP, clips and adds z*C noise for local DP', () => {
    const central = randomVector(10_000, 1);
    expect(
      privatizeUpdate(central, PrivacyConfig.parse({ mode: 'central', ...dp }), seededRng(1)).noiseStd,
    ).toBe(0);
    expect(l2Norm(central)).toBeCloseTo(0.5, 5);
    const local = randomVector(10_000, 1);
    const info = privatizeUpdate(local, PrivacyConfig.parse({ mode: 'local', ...dp }), seededRng(1));
    expect(info.noiseStd).toBe(1);
    // Expected: clipped (norm 0.5) plus noise from the same seeded stream.
    const expected = randomVector(10_000, 1).map((x) => x * info.scale);
    addGaussianNoise(expected, 1, seededRng(1));
    expect(maxAbsDiff(local, expected)).toBeLessThan(1e-6);
  });
});

describe('central DP in the aggregator', () => {
  it('averages clipped updates with equal weights and adds N(0, (zC/n)^2) from the given source', () => {
    const p = 5_000;
    const global = randomVector(p, 2);
    const updates = randomUpdates(4, p, 3); // random weights: every delta has norm ~ 58 > C, all clipped
    const agg = createAggregator(StrategyConfig.parse({ name: 'fedavg' }), {
      global,
      state: null,
      expectedSites: 4,
      privacy: PrivacyConfig.parse({ mode: 'central', ...dp }),
      rng: seededRng(5),
    });
    updates.forEach((u) => agg.add(u));
    const { weights } = agg.finish();
    // Float64 reference: g + mean_k(clip(w_k - g, C)) + noise(std = 2 * 0.5 / 4) drawn from the same seed.
    const noise = addGaussianNoise(new Float32Array(p), (2 * 0.5) / 4, seededRng(5));
    const factors = updates.map((u) => 0.5 / Math.hypot(...Array.from(u.weights, (w, j) => w - global[j])));
    expect(Math.max(...factors)).toBeLessThan(1);
    const ref = Array.from(
      global,
      (g, i) => g + updates.reduce((s, u, k) => s + (u.weights[i] - g) * factors[k], 0) / 4 + noise[i],
    );
    expect(maxAbsDiff(weights, ref)).toBeLessThan(1e-6);
  });

  it('refuses central DP with a strategy that is not a mean', () => {
    expect(() =>
      createAggregator(StrategyConfig.parse({ name: 'median' }), {
        global: new Float32Array(1),
        state: null,
        expectedSites: 1,
        privacy: PrivacyConfig.parse({ mode: 'central', ...dp }),
      }),
    ).toThrow(/mean-based strategy/);
  });
});
