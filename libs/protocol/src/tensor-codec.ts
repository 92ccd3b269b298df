import { z } from 'zod';
import { TensorCodecError } from './errors';

/**
 * A named set of tensors as one binary blob, sent as a socket.io binary attachment (never JSON arrays):
 *
 *   "FSTN" | version u8 | 3 reserved bytes | manifest length u32 LE | manifest JSON (UTF-8) | pad to 8 | payload
 *
 * Each tensor's bytes start at an 8-byte aligned offset of the payload, so decoding returns typed-array
 * views without copying when the blob itself is aligned.
 */
/** uint32: secure aggregation's masked vectors (two little-endian limbs per element of Z_2^64). */
export const TensorDtype = z.enum(['float32', 'float16', 'int8', 'uint8', 'int32', 'uint32']);
export type TensorDtype = z.infer<typeof TensorDtype>;

export const TensorEntry = z.object({
  name: z.string().min(1).max(256),
  shape: z.array(z.int().min(0)).max(8),
  dtype: TensorDtype,
  byteOffset: z.int().min(0),
  byteLength: z.int().min(0),
  /** Codec parameters (int8 scale, top-k length, ...); opaque to the container. */
  meta: z.record(z.string(), z.number()).optional(),
});
export type TensorEntry = z.infer<typeof TensorEntry>;

export const TensorManifest = z.object({ tensors: z.array(TensorEntry).max(100_000) });
export type TensorManifest = z.infer<typeof TensorManifest>;

export type TypedArrayOf<D extends TensorDtype> = D extends 'float32'
  ? Float32Array
  : D extends 'int8'
    ? Int8Array
    : D extends 'int32'
      ? Int32Array
      : D extends 'float16'
        ? Uint16Array
        : Uint8Array;

export type TensorData = Float32Array | Uint16Array | Int8Array | Uint8Array | Int32Array | Uint32Array;

export interface NamedTensor {
  name: string;
  shape: number[];
  dtype: TensorDtype;
  data: TensorData;
  meta?: Record<string, number>;
}

const MAGIC = [0x46, 0x53, 0x54, 0x4e]; // "FSTN"
const VERSION = 1;
const HEADER_BYTES = 12;

const BYTES_PER_ELEMENT: Record<TensorDtype, number> = {
  float32: 4,
  float16: 2,
  int8: 1,
  uint8: 1,
  int32: 4,
  uint32: 4,
};

const align8 = (n: number) => (n + 7) & ~7;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function expectedArray(dtype: TensorDtype): string {
  return {
    float32: 'Float32Array',
    float16: 'Uint16Array',
    int8: 'Int8Array',
    uint8: 'Uint8Array',
    int32: 'Int32Array',
    uint32: 'Uint32Array',
  }[dtype];
}

/** What a tensor looks like before its values are known: everything of NamedTensor but the data. */
export type TensorSpec = Omit<NamedTensor, 'data'>;

/** The header (magic, version, manifest, padding) and payload size of a blob holding tensors shaped `specs`. */
function layout(specs: readonly TensorSpec[]): { header: Uint8Array; entries: TensorEntry[]; bytes: number } {
  const entries: TensorEntry[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const t of specs) {
    if (seen.has(t.name))
      throw new TensorCodecError(`Tensor name "${t.name}" appears twice; names must be unique.`);
    seen.add(t.name);
    const byteLength = elementCount(t.shape) * BYTES_PER_ELEMENT[t.dtype];
    entries.push({
      name: t.name,
      shape: [...t.shape],
      dtype: t.dtype,
      byteOffset: offset,
      byteLength,
      meta: t.meta,
    });
    offset = align8(offset + byteLength);
  }
  const manifestBytes = new TextEncoder().encode(
    JSON.stringify({ tensors: entries } satisfies TensorManifest),
  );
  const payloadStart = align8(HEADER_BYTES + manifestBytes.length);
  const header = new Uint8Array(payloadStart);
  header.set(MAGIC, 0);
  header[4] = VERSION;
  new DataView(header.buffer).setUint32(8, manifestBytes.length, true);
  header.set(manifestBytes, HEADER_BYTES);
  return { header, entries, bytes: payloadStart + offset };
}

export function encodeTensors(tensors: readonly NamedTensor[]): Uint8Array {
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name))
      throw new TensorCodecError(`Tensor name "${t.name}" appears twice; names must be unique.`);
    seen.add(t.name);
    const count = elementCount(t.shape);
    if (t.data.length !== count) {
      throw new TensorCodecError(
        `Tensor "${t.name}" has shape [${t.shape.join(', ')}] (${count} elements) but ${t.data.length} values.`,
      );
    }
    if (t.data.constructor.name !== expectedArray(t.dtype)) {
      throw new TensorCodecError(
        `Tensor "${t.name}" is ${t.dtype} but its data is a ${t.data.constructor.name}.`,
      );
    }
  }
  const { header, entries, bytes } = layout(tensors);
  const out = new Uint8Array(bytes);
  out.set(header, 0);
  tensors.forEach((t, i) => {
    const entry = entries[i]!;
    out.set(
      new Uint8Array(t.data.buffer, t.data.byteOffset, entry.byteLength),
      header.length + entry.byteOffset,
    );
  });
  return out;
}

/**
 * A blob for tensors shaped `specs`, its values still zero, and each tensor's data as a view of it: filling
 * the views and sending the blob gives encodeTensors' bytes without its copy of every value (a model's worth
 * of memory at 50M parameters).
 */
export function allocateTensors(specs: readonly TensorSpec[]): { blob: Uint8Array; tensors: NamedTensor[] } {
  const { header, entries, bytes } = layout(specs);
  const blob = new Uint8Array(bytes);
  blob.set(header, 0);
  const tensors = entries.map((e, i) => ({
    name: e.name,
    shape: e.shape,
    dtype: e.dtype,
    data: viewOf(e.dtype, blob.buffer, header.length + e.byteOffset, elementCount(e.shape)),
    ...(specs[i]!.meta ? { meta: specs[i]!.meta } : {}),
  }));
  return { blob, tensors };
}

/**
 * How many bytes a blob's header takes (up to the 8-byte aligned payload start), read from its first 12
 * bytes: what to read before readTensorManifest when a blob is read by ranges rather than whole.
 */
export function tensorHeaderBytes(prefix: Uint8Array): number {
  if (prefix.length < HEADER_BYTES || MAGIC.some((m, i) => prefix[i] !== m)) {
    throw new TensorCodecError('Not a fedseg tensor blob: the "FSTN" magic is missing.');
  }
  if (prefix[4] !== VERSION)
    throw new TensorCodecError(`Unsupported tensor blob version ${prefix[4]}; expected ${VERSION}.`);
  const manifestLength = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint32(8, true);
  return align8(HEADER_BYTES + manifestLength);
}

/**
 * A blob's manifest from its header alone (the first tensorHeaderBytes bytes, or more), checked as
 * decodeTensors checks it, with each tensor's byteOffset made absolute (from the start of the blob): where
 * to read a tensor, or a range of it, without reading the rest. Does not check that the payload is all there.
 */
export function readTensorManifest(header: Uint8Array): TensorEntry[] {
  const { payloadStart, entries } = parseManifest(header);
  return entries.map((e) => ({ ...e, byteOffset: payloadStart + e.byteOffset }));
}

function parseManifest(bytes: Uint8Array): { payloadStart: number; entries: TensorEntry[] } {
  if (bytes.length < HEADER_BYTES || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new TensorCodecError('Not a fedseg tensor blob: the "FSTN" magic is missing.');
  }
  if (bytes[4] !== VERSION)
    throw new TensorCodecError(`Unsupported tensor blob version ${bytes[4]}; expected ${VERSION}.`);
  const manifestLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (HEADER_BYTES + manifestLength > bytes.length)
    throw new TensorCodecError('Tensor blob is truncated inside its manifest.');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + manifestLength)));
  } catch {
    throw new TensorCodecError('Tensor blob manifest is not valid JSON.');
  }
  const parsed = TensorManifest.safeParse(raw);
  if (!parsed.success)
    throw new TensorCodecError(`Tensor blob manifest is invalid: ${z.prettifyError(parsed.error)}`);
  for (const e of parsed.data.tensors) {
    if (e.byteLength !== elementCount(e.shape) * BYTES_PER_ELEMENT[e.dtype]) {
      throw new TensorCodecError(
        `Tensor "${e.name}": byteLength ${e.byteLength} does not match its shape and dtype.`,
      );
    }
  }
  return { payloadStart: align8(HEADER_BYTES + manifestLength), entries: parsed.data.tensors };
}

export function decodeTensors(bytes: Uint8Array): NamedTensor[] {
  const { payloadStart, entries } = parseManifest(bytes);
  return entries.map((e) => {
    const count = elementCount(e.shape);
    const start = payloadStart + e.byteOffset;
    if (start + e.byteLength > bytes.length)
      throw new TensorCodecError(`Tensor blob is truncated inside "${e.name}".`);
    const absolute = bytes.byteOffset + start;
    // Views need aligned offsets; copy when the blob arrived at an unaligned address (a Node Buffer from
    // the socket pool, say). An explicit copy: Buffer#slice would return another unaligned view.
    let data: TensorData;
    if (absolute % BYTES_PER_ELEMENT[e.dtype] === 0) {
      data = viewOf(e.dtype, bytes.buffer as ArrayBuffer, absolute, count);
    } else {
      const copy = new Uint8Array(e.byteLength);
      copy.set(bytes.subarray(start, start + e.byteLength));
      data = viewOf(e.dtype, copy.buffer, 0, count);
    }
    return { name: e.name, shape: e.shape, dtype: e.dtype, data, ...(e.meta ? { meta: e.meta } : {}) };
  });
}

function viewOf(dtype: TensorDtype, buffer: ArrayBuffer, byteOffset: number, length: number): TensorData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, length);
    case 'float16':
      return new Uint16Array(buffer, byteOffset, length);
    case 'int8':
      return new Int8Array(buffer, byteOffset, length);
    case 'uint8':
      return new Uint8Array(buffer, byteOffset, length);
    case 'int32':
      return new Int32Array(buffer, byteOffset, length);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, length);
  }
}
