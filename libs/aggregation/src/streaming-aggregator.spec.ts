import { PrivacyConfig, StrategyConfig } from '@fedseg/protocol';
import { AggregationError } from './aggregation-error';
import { addSquares, l2Norm } from './clip-update';
import { seededRng } from './rng';
import { addFixedPoint } from './secure/ring64';
import { StreamingAggregator } from './streaming-aggregator';
import { randomVector } from './testing/reference';

type Streaming = ConstructorParameters<typeof StreamingAggregator>[0];
const strategyOf = (name: string) => StrategyConfig.parse({ name }) as Streaming;

/**
 * The coordinator sums plain updates slice by slice of the weight vector (round-aggregation.ts): the
 * reference is the whole-vector path it replaced (one ring sum of every update, then addSecureSum), and the
 * two must agree bit for bit, whatever the slice size.
 */
function wholeRing(deltas: readonly Float32Array[], weights: readonly number[]): Uint32Array {
  const ring = new Uint32Array(deltas[0]!.length * 2);
  deltas.forEach((d, k) => addFixedPoint(ring, d, weights[k]!));
  return ring;
}

function slicedInto(
  aggregator: StreamingAggregator,
  deltas: readonly Float32Array[],
  weights: readonly number[],
  sliceWeights: number,
  siteIds: readonly string[],
): void {
  const length = deltas[0]!.length;
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  for (let from = 0; from < length; from += sliceWeights) {
    const to = Math.min(length, from + sliceWeights);
    const ring = new Uint32Array(2 * (to - from));
    deltas.forEach((d, k) => addFixedPoint(ring, d.subarray(from, to), weights[k]!, from));
    aggregator.addSecureSumSlice({ offset: from, ring, totalWeight, siteIds });
  }
}

const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

describe('StreamingAggregator.addSecureSumSlice', () => {
  const length = 1001; // odd: the last slice is short for every slice size below but 1 and 1001
  const global = randomVector(length, 3, 2);
  const deltas = [
    randomVector(length, 11, 0.1),
    randomVector(length, 12, 0.1),
    randomVector(length, 13, 0.1),
  ];
  const weights = [17, 3, 250];
  const siteIds = ['a', 'b', 'c'];

  for (const name of ['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad']) {
    it(`gives ${name} the same weights and state, bit for bit, as the whole sum, for any slice size`, () => {
      const state = null;
      const whole = new StreamingAggregator(strategyOf(name), { global, state, expectedSites: 3 });
      whole.addSecureSum({ deltaSum: { ring: wholeRing(deltas, weights) }, totalWeight: 270, siteIds });
      const expected = whole.finish();
      for (const slice of [1, 7, 64, 333, 1000, 1001, 4096]) {
        const out = new Float32Array(length).fill(Number.NaN); // a caller's buffer: overwritten
        const sliced = new StreamingAggregator(strategyOf(name), { global, state, expectedSites: 3, out });
        slicedInto(sliced, deltas, weights, slice, siteIds);
        const got = sliced.finish();
        expect(got.weights).toBe(out);
        expect(bytes(got.weights).equals(bytes(expected.weights))).toBe(true);
        expect(got.state).toEqual(expected.state);
      }
    });
  }

  it('keeps a FedAdam state from the previous round working the same way', () => {
    const first = new StreamingAggregator(strategyOf('fedadam'), { global, state: null, expectedSites: 3 });
    first.addSecureSum({ deltaSum: { ring: wholeRing(deltas, weights) }, totalWeight: 270, siteIds });
    const { weights: next, state } = first.finish();
    const whole = new StreamingAggregator(strategyOf('fedadam'), { global: next, state, expectedSites: 3 });
    whole.addSecureSum({ deltaSum: { ring: wholeRing(deltas, weights) }, totalWeight: 270, siteIds });
    const expected = whole.finish();
    const sliced = new StreamingAggregator(strategyOf('fedadam'), { global: next, state, expectedSites: 3 });
    slicedInto(sliced, deltas, weights, 100, siteIds);
    const got = sliced.finish();
    expect(bytes(got.weights).equals(bytes(expected.weights))).toBe(true);
    expect(got.state).toEqual(expected.state);
  });

  it('central DP: the same noise on the same sum, slice by slice', () => {
    const privacy = PrivacyConfig.parse({
      mode: 'central',
      clipNorm: 10,
      noiseMultiplier: 1,
      epsilonBudget: 100,
    });
    const ones = [1, 1, 1];
    const make = () =>
      new StreamingAggregator(strategyOf('fedavg'), {
        global,
        state: null,
        expectedSites: 3,
        privacy,
        rng: seededRng(9),
      });
    const whole = make();
    whole.addSecureSum({ deltaSum: { ring: wholeRing(deltas, ones) }, totalWeight: 3, siteIds });
    const sliced = make();
    slicedInto(sliced, deltas, ones, 250, siteIds);
    expect(bytes(sliced.finish().weights).equals(bytes(whole.finish().weights))).toBe(true);
  });

  it('refuses slices out of order, a changed total weight, and a finish before the last slice', () => {
    const ring = new Uint32Array(20);
    const make = () =>
      new StreamingAggregator(strategyOf('fedavg'), { global, state: null, expectedSites: 3 });
    const skipped = make();
    skipped.addSecureSumSlice({ offset: 0, ring, totalWeight: 3, siteIds });
    expect(() => skipped.addSecureSumSlice({ offset: 20, ring, totalWeight: 3, siteIds })).toThrow(
      /must start at 10/,
    );
    expect(() => skipped.addSecureSumSlice({ offset: 10, ring, totalWeight: 4, siteIds })).toThrow(
      /total weight 3/,
    );
    expect(() => skipped.finish()).toThrow(/covers 10 of the model's 1001 weights/);
    expect(() => make().addSecureSumSlice({ offset: 5, ring, totalWeight: 3, siteIds })).toThrow(
      AggregationError,
    );
    const past = make();
    expect(() =>
      past.addSecureSumSlice({ offset: 0, ring: new Uint32Array(2004), totalWeight: 3, siteIds }),
    ).toThrow(/does not fit/);
    expect(
      () =>
        new StreamingAggregator(strategyOf('fedavg'), {
          global,
          state: null,
          expectedSites: 3,
          out: new Float32Array(3),
        }),
    ).toThrow(/output buffer holds 3 values/);
  });

  it('builds the mean of add()ed updates in a caller buffer that held garbage, as in its own', () => {
    const updates = deltas.map((d, k) => ({
      siteId: siteIds[k]!,
      samples: weights[k]!,
      weights: global.map((g, i) => g + d[i]!),
    }));
    const own = new StreamingAggregator(strategyOf('fedavg'), { global, state: null, expectedSites: 3 });
    const out = new Float32Array(length).fill(Number.NaN);
    const given = new StreamingAggregator(strategyOf('fedavg'), {
      global,
      state: null,
      expectedSites: 3,
      out,
    });
    for (const u of updates) {
      own.add(u);
      given.add(u);
    }
    expect(bytes(given.finish().weights).equals(bytes(own.finish().weights))).toBe(true);
  });
});

describe('slices of the helpers the sliced sum uses', () => {
  it('addFixedPoint over slices equals it over the whole vector, and names the index in the whole', () => {
    const values = randomVector(777, 5, 3);
    const whole = new Uint32Array(2 * 777);
    addFixedPoint(whole, values, 41);
    for (const slice of [1, 100, 776]) {
      const sliced = new Uint32Array(2 * 777);
      for (let from = 0; from < 777; from += slice) {
        const to = Math.min(777, from + slice);
        addFixedPoint(sliced.subarray(2 * from, 2 * to), values.subarray(from, to), 41, from);
      }
      expect(Buffer.from(sliced.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
    }
    const bad = values.slice();
    bad[500] = Number.NaN;
    expect(() => addFixedPoint(new Uint32Array(200), bad.subarray(400, 500 + 1).subarray(1), 1, 401)).toThrow(
      /at index 500 /,
    );
  });

  it('addSquares folded over slices in order is l2Norm of the whole, bit for bit', () => {
    const v = randomVector(10_001, 8, 5);
    let reference = 0; // the loop l2Norm had before it was split, written out again
    for (let i = 0; i < v.length; i++) reference += v[i]! * v[i]!;
    expect(Object.is(l2Norm(v), Math.sqrt(reference))).toBe(true);
    for (const slice of [1, 999, 10_000]) {
      let sum = 0;
      for (let from = 0; from < v.length; from += slice)
        sum = addSquares(sum, v.subarray(from, from + slice));
      expect(Object.is(Math.sqrt(sum), l2Norm(v))).toBe(true);
    }
  });
});
