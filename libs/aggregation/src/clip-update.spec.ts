import { AggregationError } from './aggregation-error';
import { clipScale, clipUpdate, distanceNorm, l2Norm } from './clip-update';

describe('clipUpdate', () => {
  it('scales an update down to the clip norm and leaves a smaller one alone (hand-computed)', () => {
    const big = Float32Array.of(3, 4);
    expect(clipUpdate(big, 1)).toEqual({ norm: 5, scale: 0.2 });
    expect(big[0]).toBeCloseTo(0.6, 7);
    expect(big[1]).toBeCloseTo(0.8, 7);
    const small = Float32Array.of(0.3, 0.4);
    expect(clipUpdate(small, 1).scale).toBe(1);
    expect(Array.from(small)).toEqual([Math.fround(0.3), Math.fround(0.4)]);
  });

  it('measures norms in float64 and refuses a non-finite update', () => {
    expect(l2Norm(Float32Array.of(1, 2, 2))).toBe(3);
    expect(distanceNorm(Float32Array.of(4, 6), Float32Array.of(1, 2))).toBe(5);
    expect(() => clipScale(NaN, 1, 'site-a')).toThrow(/site site-a holds NaN or Infinity/);
    expect(() => clipScale(1, 0)).toThrow(AggregationError);
  });
});
