import { normalizeForPlan } from './normalize-for-plan';
import type { Volume } from './volume';
import { zScoreNormalize } from './z-score-normalize';

describe('normalizeForPlan', () => {
  it('clips CT to the pooled percentiles, then z-scores with the pooled mean and std (hand-worked)', () => {
    const ct: Volume = {
      data: Float32Array.from([-2000, 0, 100, 5000]),
      shape: [4, 1, 1],
      spacingMm: [1, 1, 1],
      channels: 1,
    };
    const out = normalizeForPlan(ct, [{ scheme: 'ct', clipLo: -1000, clipHi: 1000, mean: 0, std: 500 }]);
    // -2000 -> -1000 -> -2; 0 -> 0; 100 -> 0.2; 5000 -> 1000 -> 2.
    expect(Array.from(out.data)).toEqual([-2, 0, Math.fround(0.2), 2]);
  });

  it('mixes schemes per channel and z-scores MR channels with their own foreground', () => {
    const data = Float32Array.from([10, 1, 20, 2, 30, 3, 40, 4]); // channel 0 CT, channel 1 MR, 4 voxels
    const v: Volume = { data, shape: [4, 1, 1], spacingMm: [1, 1, 1], channels: 2 };
    const foreground = [0, 1, 1, 1];
    const out = normalizeForPlan(
      v,
      [{ scheme: 'ct', clipLo: 15, clipHi: 35, mean: 25, std: 10 }, { scheme: 'zscore' }],
      { foreground },
    );
    expect([0, 2, 4, 6].map((i) => out.data[i])).toEqual([-1, -0.5, 0.5, 1]);
    const mr = zScoreNormalize(v, { foreground });
    expect([1, 3, 5, 7].map((i) => out.data[i])).toEqual([1, 3, 5, 7].map((i) => mr.data[i]));
    expect(() => normalizeForPlan(v, [{ scheme: 'zscore' }])).toThrow(
      /normalizes 1 channel\(s\); the image has 2/,
    );
  });
});
