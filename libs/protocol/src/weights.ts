import { z } from 'zod';
import { TensorCodecError } from './errors';
import { decodeTensors, elementCount, encodeTensors, type NamedTensor } from './tensor-codec';

/**
 * A model's parameters as one flat Float32Array plus the manifest that says which slice is which tensor,
 * in a stable order. Aggregation works on the flat vector; the tensor blob is how it travels.
 */
export const WeightSpec = z.object({ name: z.string().min(1), shape: z.array(z.int().min(0)) });
export type WeightSpec = z.infer<typeof WeightSpec>;

export interface FlatWeights {
  manifest: WeightSpec[];
  data: Float32Array;
}

export function weightCount(manifest: readonly WeightSpec[]): number {
  return manifest.reduce((n, s) => n + elementCount(s.shape), 0);
}

export function encodeWeights(weights: FlatWeights): Uint8Array {
  const total = weightCount(weights.manifest);
  if (total !== weights.data.length) {
    throw new TensorCodecError(
      `Manifest describes ${total} weights but the vector holds ${weights.data.length}.`,
    );
  }
  let offset = 0;
  const tensors: NamedTensor[] = weights.manifest.map((spec) => {
    const n = elementCount(spec.shape);
    const data = weights.data.subarray(offset, offset + n);
    offset += n;
    return { name: spec.name, shape: spec.shape, dtype: 'float32', data };
  });
  return encodeTensors(tensors);
}

export function decodeWeights(blob: Uint8Array): FlatWeights {
  const tensors = decodeTensors(blob);
  const manifest: WeightSpec[] = [];
  const data = new Float32Array(tensors.reduce((n, t) => n + t.data.length, 0));
  let offset = 0;
  for (const t of tensors) {
    if (t.dtype !== 'float32')
      throw new TensorCodecError(`Weight "${t.name}" is ${t.dtype}; weights travel as float32.`);
    manifest.push({ name: t.name, shape: t.shape });
    data.set(t.data as Float32Array, offset);
    offset += t.data.length;
  }
  return { manifest, data };
}

/** True when two manifests describe the same tensors in the same order. */
export function sameManifest(a: readonly WeightSpec[], b: readonly WeightSpec[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (s, i) =>
        s.name === b[i]!.name &&
        s.shape.length === b[i]!.shape.length &&
        s.shape.every((d, j) => d === b[i]!.shape[j]),
    )
  );
}
