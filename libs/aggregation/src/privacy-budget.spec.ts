import { PrivacyConfig } from '@fedseg/protocol';
import { PrivacyBudgetExhaustedError } from './aggregation-error';
import { assertPrivacyBudget, privacyStatus, roundsWithinBudget } from './privacy-budget';
import { computeEpsilon } from './rdp-accountant';

describe('privacy budget', () => {
  const central = PrivacyConfig.parse({
    mode: 'central',
    clipNorm: 1,
    noiseMultiplier: 1.1,
    epsilonBudget: 3,
    siteSamplingRate: 0.2,
  });

  it('reports epsilon so far from the accountant and stops exactly before the round that would overspend', () => {
    const allowed = roundsWithinBudget(central);
    expect(allowed).toBeGreaterThan(0);
    const eps = (rounds: number) =>
      computeEpsilon({ noiseMultiplier: 1.1, samplingRate: 0.2, rounds, delta: 1e-5 });
    expect(eps(allowed)).toBeLessThanOrEqual(3);
    expect(eps(allowed + 1)).toBeGreaterThan(3);
    const before = privacyStatus(central, allowed - 1);
    expect(before.exhausted).toBe(false);
    expect(before.epsilon).toBeCloseTo(eps(allowed - 1), 12);
    const at = privacyStatus(central, allowed);
    expect(at).toMatchObject({ exhausted: true, roundsAllowed: allowed, epsilonBudget: 3, delta: 1e-5 });
    expect(() => assertPrivacyBudget(central, allowed)).toThrow(PrivacyBudgetExhaustedError);
    expect(() => assertPrivacyBudget(central, allowed - 1)).not.toThrow();
  });

  it('counts local DP with sensitivity 2C and no amplification by sampling', () => {
    const local = PrivacyConfig.parse({
      mode: 'local',
      clipNorm: 1,
      noiseMultiplier: 8,
      epsilonBudget: 10,
      siteSamplingRate: 0.2,
    });
    expect(privacyStatus(local, 5).epsilon).toBeCloseTo(
      computeEpsilon({ noiseMultiplier: 4, samplingRate: 1, rounds: 5, delta: 1e-5 }),
      12,
    );
  });

  it('costs nothing without DP', () => {
    expect(privacyStatus(PrivacyConfig.parse({ mode: 'none' }), 1000)).toMatchObject({
      epsilon: 0,
      exhausted: false,
      roundsAllowed: Infinity,
    });
  });
});
