import { addFixedPoint, addRing, decodeFixedPoint, encodeFixedPoint, subtractRing } from './ring64';
import { seededRng } from '../rng';

const MOD = 1n << 64n;
function toBig(ring: Uint32Array, i: number): bigint {
  return (BigInt(ring[2 * i + 1]!) << 32n) | BigInt(ring[2 * i]!);
}

describe('fixed point in Z_2^64', () => {
  it("encodes as round(x * 2^32) in two's complement (BigInt reference)", () => {
    const values = [0, 1, -1, 0.5, -0.25, 1e-9, -123.456, 2 ** 19];
    const ring = encodeFixedPoint(values);
    values.forEach((x, i) => {
      const expected = (BigInt(Math.round(x * 2 ** 32)) + MOD) % MOD;
      expect(toBig(ring, i)).toBe(expected);
    });
    const back = decodeFixedPoint(ring);
    values.forEach((x, i) => expect(Math.abs(back[i]! - x)).toBeLessThanOrEqual(2 ** -33));
  });

  it('applies the weight before rounding', () => {
    expect(Array.from(decodeFixedPoint(encodeFixedPoint([0.25, -0.5], 12)))).toEqual([3, -6]);
  });

  it('refuses values the ring cannot hold exactly, naming the index', () => {
    expect(() => encodeFixedPoint([0, 2 ** 20])).toThrow(/index 1/);
    expect(() => encodeFixedPoint([Number.NaN])).toThrow(/not finite/);
  });

  it('adds and subtracts mod 2^64 like BigInt, carries and borrows included', () => {
    const rng = seededRng(7);
    const a = new Uint32Array(2000);
    const b = new Uint32Array(2000);
    for (let i = 0; i < a.length; i++) {
      a[i] = rng.nextUint32();
      b[i] = rng.nextUint32();
    }
    a[0] = 0xffffffff; // forces a carry into the high limb
    b[0] = 1;
    const sum = a.slice();
    addRing(sum, b);
    const diff = a.slice();
    subtractRing(diff, b);
    for (let i = 0; i < 1000; i++) {
      expect(toBig(sum, i)).toBe((toBig(a, i) + toBig(b, i)) % MOD);
      expect(toBig(diff, i)).toBe((toBig(a, i) - toBig(b, i) + MOD) % MOD);
    }
    // views that are not 8-byte aligned take the 32-bit limb path: same results
    const backing = new Uint32Array(a.length + 1);
    const unaligned = backing.subarray(1);
    unaligned.set(a);
    addRing(unaligned, b);
    expect(Array.from(unaligned)).toEqual(Array.from(sum));
    unaligned.set(a);
    subtractRing(unaligned, b);
    expect(Array.from(unaligned)).toEqual(Array.from(diff));
  });

  it('sums negative and positive values exactly', () => {
    const acc = encodeFixedPoint([1.5, -2]);
    addRing(acc, encodeFixedPoint([-3.25, 0.5]));
    expect(Array.from(decodeFixedPoint(acc))).toEqual([-1.75, -1.5]);
  });

  it('addFixedPoint adds exactly what encodeFixedPoint then addRing add, in any order', () => {
    const rng = seededRng(3);
    const updates = [0, 1, 2].map(() =>
      Float32Array.from({ length: 500 }, () => (rng.nextUint32() / 2 ** 32 - 0.5) * 4),
    );
    const weights = [3, 1, 7];
    const viaEncode = new Uint32Array(1000);
    updates.forEach((u, k) => addRing(viaEncode, encodeFixedPoint(u, weights[k])));
    const fused = new Uint32Array(1000);
    for (const k of [2, 0, 1]) addFixedPoint(fused, updates[k]!, weights[k]!);
    expect(Array.from(fused)).toEqual(Array.from(viaEncode));
    expect(() => addFixedPoint(new Uint32Array(4), [1, 2e6], 1)).toThrow(/index 1/);
  });
});
