import {
  computeEpsilon,
  computeRdp,
  DEFAULT_RDP_ORDERS,
  epsilonFromRdp,
  RdpAccountant,
  sampledGaussianRdp,
} from './rdp-accountant';
import { logErfc } from './log-math';

/**
 * Expected values are published by TensorFlow Privacy (github.com/tensorflow/privacy), in its tests of the
 * RDP accountant for the sampled Gaussian mechanism:
 *  [A] tensorflow_privacy/privacy/analysis/rdp_accountant_test.py, test_compute_rdp_scalar and
 *      test_compute_rdp_sequence (RDP values), test_check_composition (epsilon, classic conversion, opt order).
 *  [B] tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py, test_compute_dp_sgd_privacy:
 *      (n, batch, noise, epochs, delta) -> (epsilon, optimal order) through compute_dp_sgd_privacy, which sets
 *      q = batch / n, steps = ceil(epochs * n / batch), orders = DEFAULT_RDP_ORDERS and uses dp_accounting's
 *      RdpAccountant (the improved conversion).
 * The numbers were read from those files; nothing here was computed by the code under test.
 */
describe('RDP of the sampled Gaussian mechanism', () => {
  it('reproduces TensorFlow Privacy: q = 0.1, z = 2, 10 steps, order 5 -> 0.07737 [A]', () => {
    expect(computeRdp({ samplingRate: 0.1, noiseMultiplier: 2, steps: 10, orders: [5] })[0]).toBeCloseTo(
      0.07737,
      5,
    );
  });

  it('reproduces TensorFlow Privacy: q = 0.01, z = 2.5, 50 steps, fractional and integer orders [A]', () => {
    const rdp = computeRdp({
      samplingRate: 0.01,
      noiseMultiplier: 2.5,
      steps: 50,
      orders: [1.5, 2.5, 5, 50, 100, Infinity],
    });
    const expected = [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307];
    expected.forEach((e, k) => expect(Math.abs(rdp[k] - e)).toBeLessThan(1e-5));
    expect(rdp[5]).toBe(Infinity);
  });

  it('handles the edge cases: q = 0 costs nothing, q = 1 is the plain Gaussian alpha / (2 z^2)', () => {
    expect(sampledGaussianRdp(0, 10, 20)).toBe(0);
    expect(sampledGaussianRdp(1, 10, 20)).toBe(0.1);
    expect(sampledGaussianRdp(0.5, 0, 2)).toBe(Infinity);
  });
});

describe('epsilon for a target delta', () => {
  it.each([
    // [B] Test0, Test1, Test2
    { n: 60_000, batch: 150, z: 1.3, epochs: 15, delta: 1e-5, epsilon: 0.7242234026109595, order: 19 },
    { n: 100_000, batch: 100, z: 1.0, epochs: 30, delta: 1e-7, epsilon: 1.4154988495444842, order: 13 },
    {
      n: 100_000_000,
      batch: 1024,
      z: 0.1,
      epochs: 10,
      delta: 1e-7,
      epsilon: 5907982.3113978775,
      order: 1.25,
    },
  ])(
    'reproduces TensorFlow Privacy compute_dp_sgd_privacy(n=$n, batch=$batch, z=$z, epochs=$epochs) = $epsilon [B]',
    (c) => {
      const samplingRate = c.batch / c.n;
      const rounds = Math.ceil((c.epochs * c.n) / c.batch);
      const rdp = computeRdp({ samplingRate, noiseMultiplier: c.z, steps: rounds });
      const { epsilon, order } = epsilonFromRdp(DEFAULT_RDP_ORDERS, rdp, c.delta);
      expect(Math.abs(epsilon - c.epsilon) / c.epsilon).toBeLessThan(1e-9);
      expect(order).toBe(c.order);
      expect(computeEpsilon({ noiseMultiplier: c.z, samplingRate, rounds, delta: c.delta })).toBe(epsilon);
    },
  );

  it('reproduces TensorFlow Privacy test_check_composition: two mechanisms composed, classic conversion -> 8.509656 at order 2.5 [A]', () => {
    const orders = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 256];
    const accountant = new RdpAccountant(orders).compose(0.4, 1e-4, 40_000).compose(2, 0.1, 100);
    const classic = accountant.epsilon(1e-5, 'classic');
    expect(classic.epsilon).toBeCloseTo(8.509656, 5);
    expect(classic.order).toBe(2.5);
    // The improved conversion is never worse (the same test asserts eps <= 8.509656).
    expect(accountant.epsilon(1e-5).epsilon).toBeLessThanOrEqual(8.509656);
  });

  it('survives a checkpoint: state to JSON and back gives the same epsilon', () => {
    const a = new RdpAccountant().compose(1.1, 0.05, 30);
    const b = RdpAccountant.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    expect(b.epsilon(1e-5)).toEqual(a.epsilon(1e-5));
    expect(b.compose(1.1, 0.05, 10).epsilon(1e-5).epsilon).toBeCloseTo(
      computeEpsilon({ noiseMultiplier: 1.1, samplingRate: 0.05, rounds: 40, delta: 1e-5 }),
      10,
    );
  });
});

describe('logErfc', () => {
  it('matches erfc values from Abramowitz & Stegun table 7.1 and the tail asymptote', () => {
    expect(Math.exp(logErfc(0.5))).toBeCloseTo(0.4795001222, 10);
    expect(Math.exp(logErfc(1))).toBeCloseTo(0.1572992071, 10);
    expect(Math.exp(logErfc(2))).toBeCloseTo(0.004677734981, 12);
    expect(Math.exp(logErfc(-1))).toBeCloseTo(1.8427007929, 10);
    // erfc(x) ~ e^{-x^2} / (x sqrt(pi)) (1 - 1 / (2x^2)) for large x: log at x = 100 is -10005.1775851...
    expect(logErfc(100)).toBeCloseTo(
      -1e4 - Math.log(100 * Math.sqrt(Math.PI)) + Math.log1p(-1 / 2e4 + 3 / 4e8),
      9,
    );
  });
});
