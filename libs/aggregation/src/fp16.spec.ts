import { float16ToFloat32, float32ToFloat16 } from './fp16';
import { randomVector } from './testing/reference';

describe('fp16', () => {
  it('encodes known values bit-exactly (IEEE 754 binary16)', () => {
    const src = Float32Array.of(
      0,
      -0,
      1,
      -2,
      65504,
      65520,
      1e6,
      2 ** -24,
      2 ** -25,
      2 ** -14,
      0.1,
      Infinity,
      -Infinity,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
    );
    const bits = Array.from(float32ToFloat16(src));
    expect(bits).toEqual([
      0x0000,
      0x8000,
      0x3c00,
      0xc000,
      0x7bff,
      0x7c00, // 65520 rounds up to Infinity (ties to even at the top of the range)
      0x7c00,
      0x0001,
      0x0000, // 2^-25 is a tie between 0 and the smallest subnormal: even (0)
      0x0400,
      0x2e66,
      0x7c00,
      0xfc00,
      0x3c00, // 1 + 2^-11: tie, rounds to even 1.0
      0x3c02, // 1 + 3 * 2^-11: tie, rounds to even 1 + 2^-9
    ]);
    expect(Number.isNaN(float16ToFloat32(float32ToFloat16(Float32Array.of(NaN)))[0])).toBe(true);
  });

  it('round-trips with relative error <= 2^-11 in the normal range', () => {
    const v = randomVector(100_000, 3, 100);
    const back = float16ToFloat32(float32ToFloat16(v));
    let worst = 0;
    for (let i = 0; i < v.length; i++)
      if (Math.abs(v[i]) > 6.2e-5) worst = Math.max(worst, Math.abs(back[i] - v[i]) / Math.abs(v[i]));
    expect(worst).toBeLessThanOrEqual(2 ** -11);
    // Every half value survives half -> float -> half unchanged.
    const all = new Uint16Array(65536).map((_, h) => h);
    const again = float32ToFloat16(float16ToFloat32(all));
    const mismatches = all.filter(
      (h, i) => again[i] !== h && !((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0),
    );
    expect(mismatches.length).toBe(0);
  });
});
