import { randomFillSync } from 'node:crypto';

/** A source of uniform 32-bit integers. DP noise draws from one; tests seed it, production uses cryptoRng(). */
export interface Rng {
  nextUint32(): number;
}

/**
 * xoshiro128** (Blackman & Vigna, 2018): small, fast, reproducible from a seed. For tests and simulations;
 * not cryptographically secure, so not for DP noise in production (use cryptoRng()).
 */
export function seededRng(seed: number): Rng {
  // splitmix32 expands the seed so that nearby seeds give unrelated streams.
  let x = seed >>> 0;
  const split = (): number => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const s = new Uint32Array([split(), split(), split(), split()]);
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return {
    nextUint32(): number {
      const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
      const t = (s[1] << 9) >>> 0;
      s[2] ^= s[0];
      s[3] ^= s[1];
      s[1] ^= s[2];
      s[0] ^= s[3];
      s[2] ^= t;
      s[3] = rotl(s[3], 11);
      return result;
    },
  };
}

function rotl(v: number, k: number): number {
  return ((v << k) | (v >>> (32 - k))) >>> 0;
}

/** Uniform integers from the operating system's CSPRNG (node:crypto), read 64 KiB at a time. */
export function cryptoRng(): Rng {
  const buffer = new Uint32Array(16384);
  let next = buffer.length;
  return {
    nextUint32(): number {
      if (next === buffer.length) {
        randomFillSync(buffer);
        next = 0;
      }
      return buffer[next++];
    },
  };
}

/** A uniform double in (0, 1), 53 random bits, never 0 (safe under log). */
export function uniform01(rng: Rng): number {
  const hi = rng.nextUint32() >>> 5; // 27 bits
  const lo = rng.nextUint32() >>> 6; // 26 bits
  return (hi * 67108864 + lo + 0.5) / 9007199254740992;
}
