import { learningRateAt } from './learning-rate';

describe('learningRateAt', () => {
  it('keeps the base rate under the constant schedule', () => {
    expect(learningRateAt('constant', 0.1, 7, 10)).toBe(0.1);
  });

  it('decays polynomially: lr0 (1 - t/T)^0.9, e.g. 0.1 * 0.5^0.9 = 0.0535887 halfway', () => {
    expect(learningRateAt('poly', 0.1, 0, 10)).toBe(0.1);
    expect(learningRateAt('poly', 0.1, 5, 10)).toBeCloseTo(0.0535887, 7);
    expect(learningRateAt('poly', 0.1, 9, 10)).toBeCloseTo(0.1 * 0.1 ** 0.9, 10);
    // Past the end (more steps than planned, e.g. a sampler that grew): held at the last step's rate, never 0.
    expect(learningRateAt('poly', 0.1, 12, 10)).toBeCloseTo(0.1 * 0.1 ** 0.9, 10);
    expect(learningRateAt('poly', 0.1, 5, 10, 2)).toBeCloseTo(0.025, 10);
  });
});
