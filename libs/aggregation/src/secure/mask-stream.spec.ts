import crypto from 'node:crypto';
import { applyMask, newSelfMaskSeed, pairwiseMaskKey, selfMaskKey } from './mask-stream';
import { simulateSecureAggregation } from './secagg-simulation';

const ctx = { studyId: '0b9f4a4e-55cf-4b1c-9a55-1d3c4a1c7e01', round: 3 };

describe('mask key schedule', () => {
  it('expands a key with ChaCha20 (RFC 8439 appendix A.1, test vector 1: all-zero key and nonce)', () => {
    const acc = new Uint32Array(4);
    applyMask(acc, new Uint8Array(32), 1);
    // keystream 76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28, read as little-endian words
    expect(Array.from(acc)).toEqual([0xade0b876, 0x903df1a0, 0xe56a5d40, 0x28bd8653]);
  });

  it('derives 256-bit keys bound to study, round and the (unordered) pair of sites', () => {
    const secret = crypto.randomBytes(32);
    const k = pairwiseMaskKey(secret, ctx, 'a', 'b');
    expect(k).toHaveLength(32);
    expect(Buffer.from(pairwiseMaskKey(secret, ctx, 'b', 'a'))).toEqual(Buffer.from(k));
    const others = [
      pairwiseMaskKey(secret, { ...ctx, round: 4 }, 'a', 'b'),
      pairwiseMaskKey(secret, { ...ctx, studyId: crypto.randomUUID() }, 'a', 'b'),
      pairwiseMaskKey(secret, ctx, 'a', 'c'),
      selfMaskKey(secret, ctx, 'a'),
    ];
    for (const o of others) expect(Buffer.from(o)).not.toEqual(Buffer.from(k));
  });

  it('makes self-mask seeds of 256 bits, each different, and refuses secrets under 128 bits', () => {
    const seeds = Array.from({ length: 64 }, () => Buffer.from(newSelfMaskSeed()).toString('hex'));
    expect(seeds.every((s) => s.length === 64)).toBe(true);
    expect(new Set(seeds).size).toBe(64);
    expect(() => selfMaskKey(new Uint8Array(15), ctx, 'a')).toThrow(/at least 128/);
    expect(() => pairwiseMaskKey(new Uint8Array(8), ctx, 'a', 'b')).toThrow(/at least 128/);
    expect(() => applyMask(new Uint32Array(2), new Uint8Array(16), 1)).toThrow(/32 bytes/);
  });

  it('never reads Math.random, through a whole round of the protocol', () => {
    const spy = jest.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random was called');
    });
    try {
      const updates = [0, 1, 2].map((i) => Float32Array.of(i, -i));
      expect(Array.from(simulateSecureAggregation({ updates, threshold: 2 }).sum)).toEqual([3, -3]);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });
});
