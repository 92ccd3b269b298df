import {
  CompressionConfig,
  PrivacyConfig,
  StrategyConfig,
  STREAMING_STRATEGIES,
  StudyConfig,
} from '@fedseg/protocol';
import { AggregationError } from './aggregation-error';
import { BufferedAggregator } from './buffered-aggregator';
import { checkStrategyPrivacy, createAggregator } from './create-aggregator';
import { StreamingAggregator } from './streaming-aggregator';
import { randomUpdates, randomVector } from './testing/reference';

const ALL = [
  'fedavg',
  'fedavgm',
  'fedadam',
  'fedyogi',
  'fedadagrad',
  'median',
  'trimmed-mean',
  'krum',
  'multi-krum',
] as const;

describe('strategy, privacy and compression configs', () => {
  it('fill in the documented defaults', () => {
    expect(StrategyConfig.parse({ name: 'fedavgm' })).toEqual({
      name: 'fedavgm',
      serverLearningRate: 1,
      serverMomentum: 0.9,
    });
    expect(StrategyConfig.parse({ name: 'fedadam' })).toEqual({
      name: 'fedadam',
      serverLearningRate: 1e-2,
      beta1: 0.9,
      beta2: 0.99,
      tau: 1e-3,
    });
    expect(StrategyConfig.parse({ name: 'fedyogi' })).toEqual({
      name: 'fedyogi',
      serverLearningRate: 1e-2,
      beta1: 0.9,
      beta2: 0.99,
      tau: 1e-3,
    });
    expect(StrategyConfig.parse({ name: 'fedadagrad' })).toEqual({
      name: 'fedadagrad',
      serverLearningRate: 1e-2,
      beta1: 0,
      tau: 1e-3,
    });
    expect(StrategyConfig.parse({ name: 'trimmed-mean' })).toEqual({ name: 'trimmed-mean', beta: 0.1 });
    expect(StrategyConfig.parse({ name: 'krum' })).toEqual({ name: 'krum', byzantine: 1 });
    expect(StrategyConfig.parse({ name: 'multi-krum', keep: 3 })).toEqual({
      name: 'multi-krum',
      byzantine: 1,
      keep: 3,
    });
    expect(
      PrivacyConfig.parse({ mode: 'central', clipNorm: 1, noiseMultiplier: 1, epsilonBudget: 8 }),
    ).toEqual({
      mode: 'central',
      clipNorm: 1,
      noiseMultiplier: 1,
      epsilonBudget: 8,
      targetDelta: 1e-5,
      siteSamplingRate: 1,
    });
    expect(CompressionConfig.parse({ codec: 'int8' })).toEqual({ codec: 'int8', rounding: 'stochastic' });
    expect(CompressionConfig.parse({ codec: 'top-k' })).toEqual({
      codec: 'top-k',
      fraction: 0.01,
      errorFeedback: true,
    });
    expect(StudyConfig.parse({ name: 's', rounds: 1 }).strategy).toEqual({ name: 'fedavg' });
  });

  it('refuse out-of-range values, naming the field', () => {
    expect(StrategyConfig.safeParse({ name: 'trimmed-mean', beta: 0.5 }).success).toBe(false);
    expect(StrategyConfig.safeParse({ name: 'fedadam', beta2: 1 }).success).toBe(false);
    expect(StrategyConfig.safeParse({ name: 'fedprox' }).success).toBe(false);
    expect(
      PrivacyConfig.safeParse({ mode: 'local', clipNorm: 1, noiseMultiplier: 1 }).error?.issues[0].path,
    ).toEqual(['epsilonBudget']);
    expect(CompressionConfig.safeParse({ codec: 'top-k', fraction: 0 }).success).toBe(false);
  });
});

describe('createAggregator', () => {
  it.each(ALL)('%s: streams or buffers as documented and returns weights of the model size', (name) => {
    const global = randomVector(1_000, 1);
    const agg = createAggregator(StrategyConfig.parse({ name }), { global, state: null, expectedSites: 5 });
    expect(agg).toBeInstanceOf(
      STREAMING_STRATEGIES.includes(name) ? StreamingAggregator : BufferedAggregator,
    );
    randomUpdates(5, 1_000, 2).forEach((u) => agg.add(u));
    const { weights, state } = agg.finish();
    expect(weights).toHaveLength(1_000);
    expect(weights.every(Number.isFinite)).toBe(true);
    expect(state === null).toBe(['fedavg', 'median', 'trimmed-mean', 'krum', 'multi-krum'].includes(name));
    expect(() => agg.finish()).toThrow(/already aggregated/);
  });

  it.each(ALL)('%s: refuses an update of the wrong length without changing the global weights', (name) => {
    const global = Float32Array.of(1, 2, 3);
    const agg = createAggregator(StrategyConfig.parse({ name }), { global, state: null, expectedSites: 1 });
    expect(() => agg.add({ siteId: 'a', samples: 1, weights: new Float32Array(4) })).toThrow(
      expect.objectContaining({ code: 'UPDATE_LENGTH_MISMATCH' }),
    );
    expect(Array.from(global)).toEqual([1, 2, 3]);
  });

  it.each(ALL)('%s: refuses an update holding NaN rather than committing a poisoned model', (name) => {
    const global = randomVector(64, 3);
    const updates = randomUpdates(5, 64, 4);
    updates[2].weights[10] = NaN;
    const agg = createAggregator(StrategyConfig.parse({ name }), { global, state: null, expectedSites: 5 });
    expect(() => {
      updates.forEach((u) => agg.add(u));
      agg.finish();
    }).toThrow(expect.objectContaining({ code: 'UPDATE_NOT_FINITE' }));
  });

  it('names the site when update-norm bounding is on', () => {
    const agg = createAggregator(StrategyConfig.parse({ name: 'fedavg', updateNormBound: 10 }), {
      global: new Float32Array(2),
      state: null,
      expectedSites: 1,
    });
    expect(() => agg.add({ siteId: 'diverged', samples: 1, weights: Float32Array.of(Infinity, 0) })).toThrow(
      expect.objectContaining({ code: 'UPDATE_NOT_FINITE', details: { siteId: 'diverged' } }),
    );
  });

  it('keeps excluded (FedBN) ranges for buffered strategies and FedAdam too', () => {
    const global = Float32Array.of(0, 0, 0);
    for (const name of ['median', 'fedadam'] as const) {
      const agg = createAggregator(StrategyConfig.parse({ name }), {
        global,
        state: null,
        expectedSites: 1,
        excludedRanges: [{ offset: 2, length: 1 }],
      });
      agg.add({ siteId: 'a', samples: 1, weights: Float32Array.of(1, 1, 1) });
      const { weights, state } = agg.finish();
      expect(weights[0]).toBeGreaterThan(0);
      expect(weights[2]).toBe(0);
      if (state) expect(state.vectors.m[2]).toBe(0); // no moment builds up on a site-local parameter
    }
    expect(() =>
      createAggregator(StrategyConfig.parse({ name: 'fedavg' }), {
        global,
        state: null,
        expectedSites: 1,
        excludedRanges: [{ offset: 2, length: 2 }],
      }),
    ).toThrow(AggregationError);
  });

  it('bounds update norms for buffered strategies too, copying only the scaled update', () => {
    const global = Float32Array.of(1, 1);
    const big = Float32Array.of(31, 41); // delta (30, 40), norm 50 -> scaled to norm 5: (3, 4)
    const agg = createAggregator(StrategyConfig.parse({ name: 'median', updateNormBound: 5 }), {
      global,
      state: null,
      expectedSites: 1,
    });
    agg.add({ siteId: 'a', samples: 1, weights: big });
    const { weights } = agg.finish();
    expect(weights[0]).toBeCloseTo(4, 6);
    expect(weights[1]).toBeCloseTo(5, 6);
    expect(Array.from(big)).toEqual([31, 41]);
  });

  it('allows local DP with every strategy and central DP only with mean-based ones', () => {
    const dp = { clipNorm: 1, noiseMultiplier: 1, epsilonBudget: 8 };
    for (const name of ALL) {
      const strategy = StrategyConfig.parse({ name });
      expect(() =>
        checkStrategyPrivacy(strategy, PrivacyConfig.parse({ mode: 'local', ...dp })),
      ).not.toThrow();
      const central = () => checkStrategyPrivacy(strategy, PrivacyConfig.parse({ mode: 'central', ...dp }));
      if (STREAMING_STRATEGIES.includes(name)) expect(central).not.toThrow();
      else expect(central).toThrow(expect.objectContaining({ code: 'STRATEGY_PRIVACY_INCOMPATIBLE' }));
    }
  });
});
