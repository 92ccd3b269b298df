import { elementCount, type CompressionConfig, type NamedTensor, type WeightSpec } from '@fedseg/protocol';
import { UpdateCodecError } from './aggregation-error';
import { float16ToFloat32, float32ToFloat16 } from './fp16';
import { dequantizeInt8, quantizeInt8 } from './int8-quantize';
import { seededRng, type Rng } from './rng';
import { topK } from './top-k';

/**
 * Update codecs: a site's delta (local weights minus global weights) <-> named tensors for the
 * `@fedseg/protocol` tensor blob. The tensor names say the codec, so the coordinator decodes without
 * knowing the study's compression setting (and refuses anything else):
 *   none   update.f32 (float32 [P])
 *   fp16   update.f16 (float16 [P])
 *   int8   update.i8 (int8 [P]), update.i8.scale (float32 [S]), update.i8.length (int32 [S]): a scale per tensor
 *   top-k  update.topk.index (int32 [k], ascending, meta.length = P), update.topk.value (float32 [k])
 */

/** Kept at the site between rounds (never sent): top-k's error-feedback residual. */
export interface CodecSiteState {
  residual?: Float32Array;
}

export interface EncodeOptions {
  /** The weight manifest: int8 gets one scale per tensor. Without it, one scale per 65,536 values. */
  manifest?: readonly WeightSpec[];
  /** Source for stochastic rounding; seeded from Math.random when absent (no privacy role). */
  rng?: Rng;
}

const INT8_BLOCK = 65_536;

function segmentsOf(length: number, manifest: readonly WeightSpec[] | undefined): number[] {
  if (manifest) {
    const lengths = manifest.map((s) => elementCount(s.shape));
    const total = lengths.reduce((a, b) => a + b, 0);
    if (total !== length)
      throw new UpdateCodecError(`Manifest describes ${total} weights but the update has ${length}.`);
    return lengths;
  }
  const out: number[] = [];
  for (let start = 0; start < length; start += INT8_BLOCK) out.push(Math.min(INT8_BLOCK, length - start));
  return out;
}

/**
 * Site side: compresses `delta` (not modified) for the wire. Returns the tensors to put in the update blob
 * and the site state to keep for the next round (top-k residual; `siteState` itself is not modified).
 * Bytes before/after for the update record: 4 * P and `encodeTensors(tensors).byteLength`.
 */
export function encodeUpdate(
  codec: CompressionConfig,
  delta: Float32Array,
  siteState: CodecSiteState | null,
  options: EncodeOptions = {},
): { tensors: NamedTensor[]; siteState: CodecSiteState | null } {
  const p = delta.length;
  switch (codec.codec) {
    case 'none':
      return { tensors: [{ name: 'update.f32', shape: [p], dtype: 'float32', data: delta }], siteState };
    case 'fp16':
      return {
        tensors: [{ name: 'update.f16', shape: [p], dtype: 'float16', data: float32ToFloat16(delta) }],
        siteState,
      };
    case 'int8': {
      const lengths = segmentsOf(p, options.manifest);
      const rng = options.rng ?? seededRng(Math.floor(Math.random() * 2 ** 32));
      const { q, scales } = quantizeInt8(delta, lengths, codec.rounding, rng);
      return {
        tensors: [
          { name: 'update.i8', shape: [p], dtype: 'int8', data: q },
          { name: 'update.i8.scale', shape: [lengths.length], dtype: 'float32', data: scales },
          {
            name: 'update.i8.length',
            shape: [lengths.length],
            dtype: 'int32',
            data: Int32Array.from(lengths),
          },
        ],
        siteState,
      };
    }
    case 'top-k': {
      const k = Math.min(p, Math.max(1, Math.ceil(codec.fraction * p)));
      const prev = codec.errorFeedback ? siteState?.residual : undefined;
      if (prev && prev.length !== p) {
        throw new UpdateCodecError(
          `The kept top-k residual has ${prev.length} values but this update has ${p}; it belongs to another model. Drop the site state for this study.`,
        );
      }
      // Error feedback (Stich, Cordonnier & Jaggi, 2018, "Sparsified SGD with Memory"): send the top k of
      // delta + residual, keep what was not sent.
      const acc = new Float32Array(p);
      if (prev) for (let i = 0; i < p; i++) acc[i] = delta[i] + prev[i];
      else acc.set(delta);
      const { indices, values } = topK(acc, k);
      const tensors: NamedTensor[] = [
        { name: 'update.topk.index', shape: [k], dtype: 'int32', data: indices, meta: { length: p } },
        { name: 'update.topk.value', shape: [k], dtype: 'float32', data: values },
      ];
      if (!codec.errorFeedback) return { tensors, siteState };
      for (let n = 0; n < k; n++) acc[indices[n]] = 0;
      return { tensors, siteState: { ...siteState, residual: acc } };
    }
  }
}

function find(tensors: readonly NamedTensor[], name: string): NamedTensor {
  const t = tensors.find((x) => x.name === name);
  if (!t) throw new UpdateCodecError(`Compressed update lacks tensor "${name}".`);
  return t;
}

function expectDtype<T extends NamedTensor['data']>(
  t: NamedTensor,
  dtype: NamedTensor['dtype'],
  ctor: { new (n: number): T },
): T {
  if (t.dtype !== dtype || !(t.data instanceof ctor))
    throw new UpdateCodecError(`Tensor "${t.name}" must be ${dtype}, got ${t.dtype}.`);
  return t.data as T;
}

/**
 * Coordinator side: the delta a site sent, from the tensors of its update blob. Refuses anything malformed.
 * `readOnly`: a caller that only reads the delta gets an uncompressed one as a view of the blob, not a copy
 * (a copy is one more model's worth of memory per update at 50M parameters).
 */
export function decodeUpdate(
  tensors: readonly NamedTensor[],
  options: { readOnly?: boolean } = {},
): Float32Array {
  const names = tensors
    .map((t) => t.name)
    .sort()
    .join(',');
  switch (names) {
    case 'update.f32':
      return options.readOnly
        ? expectDtype(tensors[0], 'float32', Float32Array)
        : expectDtype(tensors[0], 'float32', Float32Array).slice();
    case 'update.f16':
      return float16ToFloat32(expectDtype(tensors[0], 'float16', Uint16Array));
    case 'update.i8,update.i8.length,update.i8.scale': {
      const q = expectDtype(find(tensors, 'update.i8'), 'int8', Int8Array);
      const scales = expectDtype(find(tensors, 'update.i8.scale'), 'float32', Float32Array);
      const lengths = expectDtype(find(tensors, 'update.i8.length'), 'int32', Int32Array);
      if (scales.length !== lengths.length)
        throw new UpdateCodecError('int8 update has a different number of scales and lengths.');
      let total = 0;
      for (let s = 0; s < lengths.length; s++) {
        if (lengths[s] < 0 || !(Number.isFinite(scales[s]) && scales[s] >= 0))
          throw new UpdateCodecError(`int8 update segment ${s} has a bad length or scale.`);
        total += lengths[s];
      }
      if (total !== q.length)
        throw new UpdateCodecError(`int8 update segments cover ${total} values but it holds ${q.length}.`);
      return dequantizeInt8(q, scales, lengths, new Float32Array(q.length));
    }
    case 'update.topk.index,update.topk.value': {
      const it = find(tensors, 'update.topk.index');
      const indices = expectDtype(it, 'int32', Int32Array);
      const values = expectDtype(find(tensors, 'update.topk.value'), 'float32', Float32Array);
      const p = it.meta?.length;
      if (p === undefined || !Number.isInteger(p) || p < 0 || p > 2 ** 31 - 1)
        throw new UpdateCodecError('top-k update lacks a valid meta.length.');
      if (indices.length !== values.length)
        throw new UpdateCodecError('top-k update has a different number of indices and values.');
      const out = new Float32Array(p);
      let last = -1;
      for (let n = 0; n < indices.length; n++) {
        const i = indices[n];
        if (i <= last || i >= p)
          throw new UpdateCodecError(`top-k index ${i} is out of range or not ascending.`);
        out[i] = values[n];
        last = i;
      }
      return out;
    }
    default:
      throw new UpdateCodecError(
        `Not a compressed update: tensors [${names}] match no codec (none, fp16, int8, top-k).`,
      );
  }
}

/** Coordinator side: the site's full weights, global + delta, for SiteUpdate.weights. */
export function applyDelta(global: Float32Array, delta: Float32Array): Float32Array {
  if (global.length !== delta.length)
    throw new UpdateCodecError(`Update has ${delta.length} values but the model has ${global.length}.`);
  const out = new Float32Array(global.length);
  for (let i = 0; i < out.length; i++) out[i] = global[i] + delta[i];
  return out;
}
