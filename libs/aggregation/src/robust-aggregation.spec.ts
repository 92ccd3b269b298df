import { StrategyConfig } from '@fedseg/protocol';
import { createAggregator } from './create-aggregator';
import { seededRng, uniform01 } from './rng';
import type { SiteUpdate } from './site-update';
import { randomVector } from './testing/reference';

/**
 * f = 2 of N = 12 sites attack, the 10 honest ones send global + (true step + noise). Stated bounds:
 *  - median (f < N/2) and trimmed mean (floor(beta N) >= f): every coordinate of the result lies within
 *    the honest sites' values at that coordinate, so |result - honest mean| <= max_k |w_k - honest mean|
 *    coordinate-wise (Yin et al., 2018).
 *  - Krum / Multi-Krum (N >= 2f + 3): when the attackers lie farther from every honest update than honest
 *    updates lie from each other, Krum returns an honest update (L2 error <= the largest honest distance to
 *    the honest mean) and Multi-Krum with m = N - f returns exactly the honest mean (Blanchard et al., 2017).
 *  - FedAvg has no bound: its error grows with the attack's size (shown > 10x the honest spread).
 */
const P = 2_000;
const HONEST = 10;
const F = 2;

function scenario(attack: 'scaled' | 'random', seed: number) {
  const global = randomVector(P, seed);
  const step = randomVector(P, seed + 1, 0.05);
  const honest: SiteUpdate[] = Array.from({ length: HONEST }, (_, k) => {
    const noise = randomVector(P, seed + 10 + k, 0.02);
    return { siteId: `honest-${k}`, samples: 100, weights: global.map((g, i) => g + step[i] + noise[i]) };
  });
  const rng = seededRng(seed + 99);
  const attackers: SiteUpdate[] = Array.from({ length: F }, (_, k) => ({
    siteId: `attacker-${k}`,
    // Scaled: the honest step reversed and blown up 50x (a boosted model-replacement attack); random: N(0, 1)-ish junk.
    samples: 1000,
    weights:
      attack === 'scaled'
        ? global.map((g, i) => g - 50 * step[i])
        : global.map((g) => g + 4 * (uniform01(rng) + uniform01(rng) + uniform01(rng) - 1.5)),
  }));
  const honestMean = global.map((_, i) => honest.reduce((s, u) => s + u.weights[i], 0) / HONEST);
  // Largest coordinate-wise and L2 distance of an honest update to the honest mean.
  let maxCoord = 0;
  let maxL2 = 0;
  for (const u of honest) {
    let s = 0;
    for (let i = 0; i < P; i++) {
      const d = Math.abs(u.weights[i] - honestMean[i]);
      maxCoord = Math.max(maxCoord, d);
      s += d * d;
    }
    maxL2 = Math.max(maxL2, Math.sqrt(s));
  }
  return {
    global,
    updates: [attackers[0], ...honest.slice(0, 5), attackers[1], ...honest.slice(5)],
    honest,
    honestMean,
    maxCoord,
    maxL2,
  };
}

function aggregate(strategy: unknown, global: Float32Array, updates: SiteUpdate[]): Float32Array {
  const agg = createAggregator(StrategyConfig.parse(strategy), {
    global,
    state: null,
    expectedSites: updates.length,
  });
  updates.forEach((u) => agg.add(u));
  return agg.finish().weights;
}

function l2(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

describe.each(['scaled', 'random'] as const)('with %s updates from f = 2 of 12 sites', (attack) => {
  const s = scenario(attack, attack === 'scaled' ? 1 : 2);

  it.each([{ name: 'median' }, { name: 'trimmed-mean', beta: 0.2 }])(
    '$name stays within the honest values at every coordinate',
    (strategy) => {
      const out = aggregate(strategy, s.global, s.updates);
      const outside: number[] = [];
      let worst = 0;
      for (let i = 0; i < P; i++) {
        const col = s.honest.map((u) => u.weights[i]);
        if (out[i] < Math.min(...col) || out[i] > Math.max(...col)) outside.push(i);
        worst = Math.max(worst, Math.abs(out[i] - s.honestMean[i]));
      }
      expect(outside).toEqual([]);
      expect(worst).toBeLessThanOrEqual(s.maxCoord + 1e-7);
    },
  );

  it('krum returns an honest update, within the honest spread of the honest mean', () => {
    const out = aggregate({ name: 'krum', byzantine: F }, s.global, s.updates);
    expect(s.honest.some((u) => l2(u.weights, out) === 0)).toBe(true);
    expect(l2(out, s.honestMean)).toBeLessThanOrEqual(s.maxL2);
  });

  it('multi-krum with m = N - f returns the honest mean', () => {
    const out = aggregate({ name: 'multi-krum', byzantine: F }, s.global, s.updates);
    expect(l2(out, s.honestMean)).toBeLessThan(1e-4);
  });

  it('fedavg is pulled far outside the honest spread', () => {
    const out = aggregate({ name: 'fedavg' }, s.global, s.updates);
    expect(l2(out, s.honestMean)).toBeGreaterThan(10 * s.maxL2);
  });
});
