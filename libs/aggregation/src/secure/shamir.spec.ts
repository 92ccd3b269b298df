import { combineShares, gfDiv, gfMul, splitSecret } from './shamir';

describe('GF(2^8)', () => {
  it('multiplies as FIPS-197 section 4.2 does', () => {
    expect(gfMul(0x57, 0x83)).toBe(0xc1);
    expect(gfMul(0x57, 0x13)).toBe(0xfe);
    expect(gfMul(0, 0x13)).toBe(0);
  });

  it('divides as the inverse of multiplication, for every pair', () => {
    for (let a = 0; a < 256; a++) for (let b = 1; b < 256; b++) expect(gfMul(gfDiv(a, b), b)).toBe(a);
  });
});

describe('Shamir over GF(2^8)', () => {
  it('gives the hand-computed shares of 0x42 with coefficient 0x05 (t = 2)', () => {
    const shares = splitSecret(Uint8Array.of(0x42), [1, 2, 3], 2, (b) => b.fill(0x05));
    // y(x) = 0x42 xor 0x05 * x: x=1 -> 0x47, x=2 -> 0x0a xor 0x42 = 0x48, x=3 -> 0x0f xor 0x42 = 0x4d
    expect(shares.map((s) => s.y[0])).toEqual([0x47, 0x48, 0x4d]);
  });

  it('recovers a 32-byte secret from every subset of t shares, and not from t - 1', () => {
    const secret = Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);
    const shares = splitSecret(secret, [3, 7, 9, 200, 255], 3);
    for (let a = 0; a < 5; a++)
      for (let b = a + 1; b < 5; b++)
        for (let c = b + 1; c < 5; c++)
          expect(Array.from(combineShares([shares[a]!, shares[b]!, shares[c]!], 3))).toEqual(
            Array.from(secret),
          );
    expect(() => combineShares(shares.slice(0, 2), 3)).toThrow(/cannot recover/);
    // Interpolating only two points gives a line through them: not the secret.
    expect(Array.from(combineShares(shares.slice(0, 2), 2))).not.toEqual(Array.from(secret));
  });

  it('catches a wrong share among more than t', () => {
    const shares = splitSecret(Uint8Array.of(1, 2, 3), [1, 2, 3, 4], 2);
    shares[3]!.y[1]! ^= 1;
    expect(() => combineShares(shares, 2)).toThrow(/disagrees/);
  });

  it('leaks nothing with t - 1 shares: every pair of share values occurs once per secret (t = 3, exhaustive)', () => {
    for (const secret of [0x00, 0x9a]) {
      const seen = new Uint8Array(65536);
      for (let c = 0; c < 65536; c++) {
        const [s1, s2] = splitSecret(Uint8Array.of(secret), [1, 2, 5], 3, (b) => {
          b[0] = c & 0xff;
          b[1] = c >> 8;
        });
        seen[(s1!.y[0]! << 8) | s2!.y[0]!]! += 1;
      }
      expect(seen.every((count) => count === 1)).toBe(true);
    }
  });

  it('refuses points outside 1..255, repeated points and impossible thresholds', () => {
    expect(() => splitSecret(Uint8Array.of(1), [0, 1], 2)).toThrow(/outside/);
    expect(() => splitSecret(Uint8Array.of(1), [1, 1], 2)).toThrow(/twice/);
    expect(() => splitSecret(Uint8Array.of(1), [1, 2], 3)).toThrow(/threshold/);
  });
});
