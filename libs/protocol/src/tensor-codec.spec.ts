import {
  allocateTensors,
  decodeTensors,
  encodeTensors,
  readTensorManifest,
  tensorHeaderBytes,
  type NamedTensor,
} from './tensor-codec';
import { TensorCodecError } from './errors';

describe('tensor codec', () => {
  const tensors: NamedTensor[] = [
    {
      name: 'conv/kernel',
      shape: [3, 3, 3, 1, 2],
      dtype: 'float32',
      data: Float32Array.from({ length: 54 }, (_, i) => i * 0.5 - 3),
    },
    { name: 'half', shape: [3], dtype: 'float16', data: Uint16Array.of(0x3c00, 0xc000, 0x7bff) },
    { name: 'q', shape: [5], dtype: 'int8', data: Int8Array.of(-128, -1, 0, 1, 127), meta: { scale: 0.25 } },
    { name: 'mask', shape: [2, 2], dtype: 'uint8', data: Uint8Array.of(0, 1, 2, 255) },
    { name: 'idx', shape: [2], dtype: 'int32', data: Int32Array.of(-5, 2 ** 31 - 1) },
    { name: 'empty', shape: [0, 4], dtype: 'float32', data: new Float32Array(0) },
  ];

  it('round-trips every dtype, shape and meta exactly', () => {
    const decoded = decodeTensors(encodeTensors(tensors));
    expect(decoded.map((t) => [t.name, t.shape, t.dtype, t.meta])).toEqual(
      tensors.map((t) => [t.name, t.shape, t.dtype, t.meta]),
    );
    decoded.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(tensors[i]!.data)));
  });

  it('places every tensor at an 8-byte aligned offset so views need no copy', () => {
    const blob = encodeTensors(tensors);
    for (const t of decodeTensors(blob)) {
      expect(t.data.buffer).toBe(blob.buffer);
      expect(t.data.byteOffset % 8).toBe(0);
    }
  });

  it('decodes a blob that arrives at an unaligned address (copying only then)', () => {
    const blob = encodeTensors(tensors);
    const shifted = new Uint8Array(blob.length + 1);
    shifted.set(blob, 1);
    const decoded = decodeTensors(shifted.subarray(1));
    expect(Array.from(decoded[0]!.data)).toEqual(Array.from(tensors[0]!.data));
  });

  it('decodes a Node Buffer view at an odd offset inside a larger pool', () => {
    const blob = encodeTensors(tensors);
    const pool = Buffer.alloc(blob.length + 3);
    pool.set(blob, 3);
    const decoded = decodeTensors(pool.subarray(3));
    decoded.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(tensors[i]!.data)));
  });

  it('refuses wrong magic, truncation and inconsistent manifests with a named error', () => {
    const blob = encodeTensors(tensors);
    const wrongMagic = blob.slice();
    wrongMagic[0] = 0;
    expect(() => decodeTensors(wrongMagic)).toThrow(/magic/);
    expect(() => decodeTensors(blob.subarray(0, blob.length - 8))).toThrow(TensorCodecError);
    expect(() => decodeTensors(blob.subarray(0, 20))).toThrow(/truncated/);
  });

  it('refuses to encode data whose length or array type disagrees with shape and dtype', () => {
    expect(() =>
      encodeTensors([{ name: 'a', shape: [2, 2], dtype: 'float32', data: new Float32Array(3) }]),
    ).toThrow(/4 elements/);
    expect(() =>
      encodeTensors([{ name: 'a', shape: [2], dtype: 'int8', data: new Float32Array(2) }]),
    ).toThrow(/int8/);
    const a: NamedTensor = { name: 'a', shape: [1], dtype: 'float32', data: new Float32Array(1) };
    expect(() => encodeTensors([a, a])).toThrow(/twice/);
  });

  it('allocates a blob whose tensor views, once filled, hold the bytes encodeTensors gives', () => {
    const { blob, tensors: views } = allocateTensors(
      tensors.map(({ name, shape, dtype, meta }) => ({ name, shape, dtype, ...(meta ? { meta } : {}) })),
    );
    views.forEach((v, i) => v.data.set(tensors[i]!.data as never));
    expect(Buffer.from(blob).equals(Buffer.from(encodeTensors(tensors)))).toBe(true);
    expect(views.map((v) => v.meta)).toEqual(tensors.map((t) => t.meta));
    for (const v of views) expect(v.data.buffer).toBe(blob.buffer);
  });

  it('reads the manifest from the header alone, with offsets from the start of the blob', () => {
    const blob = encodeTensors(tensors);
    const headerBytes = tensorHeaderBytes(blob.subarray(0, 12));
    expect(headerBytes % 8).toBe(0);
    const entries = readTensorManifest(blob.slice(0, headerBytes));
    const decoded = decodeTensors(blob);
    entries.forEach((e, i) => {
      expect(e.name).toBe(decoded[i]!.name);
      expect(e.byteOffset).toBe(decoded[i]!.data.byteOffset);
      expect(e.byteLength).toBe(decoded[i]!.data.byteLength);
    });
    expect(() => readTensorManifest(blob.slice(0, headerBytes - 16))).toThrow(
      /truncated inside its manifest/,
    );
    expect(() => tensorHeaderBytes(Uint8Array.of(1, 2, 3))).toThrow(TensorCodecError);
  });
});
