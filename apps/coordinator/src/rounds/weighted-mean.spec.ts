import { weightedMean } from './weighted-mean';

describe('weightedMean', () => {
  it('weights each site by its cases: (0.5 * 2 + 0.8 * 6) / 8 = 0.725', () => {
    expect(
      weightedMean([
        { value: 0.5, samples: 2 },
        { value: 0.8, samples: 6 },
      ]),
    ).toBeCloseTo(0.725, 12);
  });

  it('leaves out sites without a finite value or without cases, and answers null when none is left', () => {
    // A site leaves out a metric it could not define (e.g. hd95_c2 with no lesion in any validation case);
    // it must not pull the study figure towards 0.
    expect(
      weightedMean([
        { value: 4, samples: 3 },
        { value: Number.NaN, samples: 5 },
        { value: 10, samples: 0 },
      ]),
    ).toBe(4);
    expect(weightedMean([{ value: Number.POSITIVE_INFINITY, samples: 2 }])).toBeNull();
    expect(weightedMean([])).toBeNull();
  });
});
