import { addGaussianNoise } from './gaussian-noise';
import { cryptoRng, seededRng } from './rng';

function moments(v: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (const x of v) s += x;
  const mean = s / v.length;
  let q = 0;
  for (const x of v) q += (x - mean) ** 2;
  return { mean, std: Math.sqrt(q / v.length) };
}

describe('addGaussianNoise', () => {
  it('adds zero-mean noise of the requested standard deviation', () => {
    const n = 200_001;
    const v = addGaussianNoise(new Float32Array(n), 0.5, seededRng(1));
    const { mean, std } = moments(v);
    // Standard errors: mean 0.5 / sqrt(n) = 0.0011, std about 0.5 / sqrt(2n) = 0.0008; 5 sigma margins.
    expect(Math.abs(mean)).toBeLessThan(0.0056);
    expect(Math.abs(std - 0.5)).toBeLessThan(0.004);
    // Tail mass beyond 2 sigma: 4.55% for a Gaussian.
    const tail = v.filter((x) => Math.abs(x) > 1).length / n;
    expect(Math.abs(tail - 0.0455)).toBeLessThan(0.003);
  });

  it('is reproducible from a seed, differs across seeds, and works from the OS CSPRNG', () => {
    const a = addGaussianNoise(new Float32Array(100), 1, seededRng(7));
    expect(addGaussianNoise(new Float32Array(100), 1, seededRng(7))).toEqual(a);
    expect(addGaussianNoise(new Float32Array(100), 1, seededRng(8))).not.toEqual(a);
    const c = moments(addGaussianNoise(new Float32Array(50_000), 2, cryptoRng()));
    expect(Math.abs(c.std - 2)).toBeLessThan(0.04);
  });

  it('leaves the vector unchanged with std 0 and refuses a negative std', () => {
    expect(addGaussianNoise(Float32Array.of(1, 2), 0, seededRng(1))).toEqual(Float32Array.of(1, 2));
    expect(() => addGaussianNoise(new Float32Array(1), -1, seededRng(1))).toThrow(/>= 0/);
  });
});
