import { sameManifest, type FlatWeights, type WeightSpec } from '@fedseg/protocol';
import { WeightsMismatchError } from '../errors';

/**
 * A difference of two weight vectors, kept in float64. The float32 difference fl(a - b) is not invertible
 * in general (a = 1e-3, b = -0.5: the bits of a below 2^-25 are lost), while a - b of two float32 values is
 * exact in float64 whenever their magnitudes are within 2^29 of each other (or one is 0), i.e. for any
 * real pair of weights; so applyWeightsDelta(weightsDelta(a, b), b) reproduces a bit for bit.
 * Round `data` to float32 (Float32Array.from) where it must travel as FlatWeights.
 */
export interface WeightsDelta {
  manifest: WeightSpec[];
  data: Float64Array;
}

function assertSameManifest(
  a: { manifest: WeightSpec[]; data: ArrayLike<number> },
  b: FlatWeights,
  what: string,
): void {
  if (!sameManifest(a.manifest, b.manifest) || a.data.length !== b.data.length) {
    throw new WeightsMismatchError(`Cannot ${what}: the two weight vectors have different manifests.`);
  }
}

/** delta = a - b, elementwise, in float64. */
export function weightsDelta(a: FlatWeights, b: FlatWeights): WeightsDelta {
  assertSameManifest(a, b, 'take a delta');
  const data = new Float64Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = a.data[i]! - b.data[i]!;
  return { manifest: a.manifest.map((s) => ({ name: s.name, shape: [...s.shape] })), data };
}

/** base + delta, elementwise, summed in float64 and rounded once to float32. */
export function applyWeightsDelta(delta: WeightsDelta | FlatWeights, base: FlatWeights): FlatWeights {
  assertSameManifest(delta, base, 'apply a delta');
  const data = new Float32Array(base.data.length);
  for (let i = 0; i < data.length; i++) data[i] = base.data[i]! + delta.data[i]!;
  return { manifest: base.manifest.map((s) => ({ name: s.name, shape: [...s.shape] })), data };
}
