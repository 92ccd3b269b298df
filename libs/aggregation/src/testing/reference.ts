/**
 * Test helpers: seeded random inputs and float64 comparison. The float64 reference implementations live in
 * each spec, written separately from the code under test.
 */
import { seededRng, uniform01 } from '../rng';
import type { SiteUpdate } from '../site-update';

export function randomVector(length: number, seed: number, scale = 1): Float32Array {
  const rng = seededRng(seed);
  const v = new Float32Array(length);
  for (let i = 0; i < length; i++) v[i] = scale * (2 * uniform01(rng) - 1);
  return v;
}

export function randomUpdates(count: number, length: number, seed: number): SiteUpdate[] {
  const rng = seededRng(seed + 1000);
  return Array.from({ length: count }, (_, k) => ({
    siteId: `site-${k}`,
    samples: 1 + Math.floor(uniform01(rng) * 100),
    weights: randomVector(length, seed * 31 + k),
  }));
}

/** Largest |a[i] - b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function toF64(updates: readonly SiteUpdate[]): { samples: number; w: number[] }[] {
  return updates.map((u) => ({ samples: u.samples, w: Array.from(u.weights) }));
}

/** Float64 sample-weighted mean of the updates minus the global weights: the pseudo-gradient of FedOpt. */
export function meanDeltaReference(global: ArrayLike<number>, updates: readonly SiteUpdate[]): number[] {
  const total = updates.reduce((s, u) => s + u.samples, 0);
  return Array.from(global, (g, i) => updates.reduce((s, u) => s + u.samples * u.weights[i], 0) / total - g);
}
