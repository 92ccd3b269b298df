import { z } from 'zod';
import { TensorCodecError } from './errors';
import {
  allocateTensors,
  decodeTensors,
  elementCount,
  encodeTensors,
  type NamedTensor,
} from './tensor-codec';

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

/**
 * Flat weights that are the payload of an encoded blob (allocateWeightsBlob, decodeWeightsView): the blob they
 * came with, kept so that encoding them again can hand back the blob instead of copying every value.
 */
const blobBehind = new WeakMap<Float32Array, { blob: Uint8Array; manifest: readonly WeightSpec[] }>();

/**
 * One flat Float32Array over the tensors' data when they lie back to back in one buffer, 4-byte aligned
 * (every tensor but the last has an even element count, so the codec's 8-byte alignment adds no padding
 * between them: true of the U-Nets, whose only odd tensor is the head's bias, last); null otherwise.
 */
function flatView(tensors: readonly NamedTensor[]): Float32Array | null {
  if (tensors.length === 0 || !tensors.every((t) => t.data instanceof Float32Array)) return null;
  const first = tensors[0]!.data;
  let end = first.byteOffset;
  for (const t of tensors) {
    if (t.data.buffer !== first.buffer || t.data.byteOffset !== end) return null;
    end += t.data.byteLength;
  }
  return new Float32Array(first.buffer, first.byteOffset, (end - first.byteOffset) / 4);
}

/**
 * A weights blob for `manifest` with its values still zero, and the weights as a view of it: whoever fills
 * `weights.data` (an aggregator's output) has filled the blob, and encodeWeights' copy of the model is saved
 * (blobOfWeights finds the blob again). Null when the layout has padding between tensors (see flatView).
 */
export function allocateWeightsBlob(
  manifest: readonly WeightSpec[],
): { blob: Uint8Array; weights: FlatWeights } | null {
  const { blob, tensors } = allocateTensors(
    manifest.map((spec) => ({ name: spec.name, shape: spec.shape, dtype: 'float32' as const })),
  );
  const data = flatView(tensors);
  if (!data) return null;
  const weights = { manifest: manifest.map((s) => ({ name: s.name, shape: [...s.shape] })), data };
  blobBehind.set(data, { blob, manifest: weights.manifest });
  return { blob, weights };
}

/**
 * decodeWeights without the copy where the blob's layout allows (see flatView; a blob read from disk or
 * allocated here is aligned): `data` is then a view of `blob`, so the two share memory, and writing one
 * writes the other. Otherwise the same copy as decodeWeights.
 */
export function decodeWeightsView(blob: Uint8Array): FlatWeights {
  const tensors = decodeTensors(blob);
  const data = flatView(tensors);
  if (!data) return decodeWeights(blob);
  const manifest = tensors.map((t) => ({ name: t.name, shape: t.shape }));
  blobBehind.set(data, { blob, manifest });
  return { manifest, data };
}

/**
 * The encoded blob whose payload `weights.data` is (made by allocateWeightsBlob or decodeWeightsView, for the
 * same manifest): encodeWeights(weights) would be a copy of exactly its bytes. Null for any other weights.
 */
export function blobOfWeights(weights: FlatWeights): Uint8Array | null {
  const behind = blobBehind.get(weights.data);
  return behind && sameManifest(behind.manifest, weights.manifest) ? behind.blob : null;
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
