import {
  allocateWeightsBlob,
  blobOfWeights,
  decodeWeights,
  decodeWeightsView,
  encodeWeights,
  sameManifest,
  weightCount,
} from './weights';

describe('flat weights on the wire', () => {
  const manifest = [
    { name: 'a', shape: [2, 3] },
    { name: 'b', shape: [4] },
  ];

  it('round-trips a flat vector exactly, slices in manifest order', () => {
    const data = Float32Array.from({ length: 10 }, (_, i) => Math.fround(Math.sin(i) * 1e3));
    const decoded = decodeWeights(encodeWeights({ manifest, data }));
    expect(decoded.manifest).toEqual(manifest);
    expect(Array.from(decoded.data)).toEqual(Array.from(data));
  });

  it('refuses a vector whose length differs from the manifest', () => {
    expect(weightCount(manifest)).toBe(10);
    expect(() => encodeWeights({ manifest, data: new Float32Array(9) })).toThrow(/10 weights/);
  });

  it('compares manifests by names, order and shapes', () => {
    expect(
      sameManifest(manifest, [
        { name: 'a', shape: [2, 3] },
        { name: 'b', shape: [4] },
      ]),
    ).toBe(true);
    expect(
      sameManifest(manifest, [
        { name: 'a', shape: [3, 2] },
        { name: 'b', shape: [4] },
      ]),
    ).toBe(false);
    expect(sameManifest(manifest, [...manifest].reverse())).toBe(false);
  });

  it('allocates a blob whose view, once filled, encodes to the bytes encodeWeights gives', () => {
    const data = Float32Array.from({ length: 10 }, (_, i) => Math.fround(Math.cos(i) * 7));
    const allocated = allocateWeightsBlob(manifest)!;
    expect(allocated.weights.manifest).toEqual(manifest);
    allocated.weights.data.set(data);
    expect(Buffer.from(allocated.blob).equals(Buffer.from(encodeWeights({ manifest, data })))).toBe(true);
    expect(blobOfWeights(allocated.weights)).toBe(allocated.blob);
    // Other weights, or the same values under another manifest, have no blob behind them.
    expect(blobOfWeights({ manifest, data: data.slice() })).toBeNull();
    const other = [
      { name: 'a', shape: [6] },
      { name: 'b', shape: [4] },
    ];
    expect(blobOfWeights({ manifest: other, data: allocated.weights.data })).toBeNull();
  });

  it('has no flat view of a layout with padding between tensors (an odd tensor before the last)', () => {
    const padded = [
      { name: 'odd', shape: [3] },
      { name: 'b', shape: [2] },
    ];
    expect(allocateWeightsBlob(padded)).toBeNull();
    const data = Float32Array.from([1, 2, 3, 4, 5]);
    const decoded = decodeWeightsView(encodeWeights({ manifest: padded, data }));
    expect(Array.from(decoded.data)).toEqual([1, 2, 3, 4, 5]);
    expect(blobOfWeights(decoded)).toBeNull();
  });

  it('decodes a blob as a view of it that decodeWeights would have copied, sharing its memory', () => {
    const data = Float32Array.from({ length: 10 }, (_, i) => i - 4.5);
    const blob = encodeWeights({ manifest, data });
    const view = decodeWeightsView(blob);
    expect(view).toEqual(decodeWeights(blob));
    expect(view.data.buffer).toBe(blob.buffer);
    expect(blobOfWeights(view)).toBe(blob);
    view.data[0] = 99;
    expect(decodeWeights(blob).data[0]).toBe(99);
  });

  it('copies when the blob lies at an unaligned address', () => {
    const data = Float32Array.from({ length: 10 }, (_, i) => i * 0.25);
    const encoded = encodeWeights({ manifest, data });
    const shifted = new Uint8Array(encoded.length + 1).subarray(1);
    shifted.set(encoded);
    const decoded = decodeWeightsView(shifted);
    expect(Array.from(decoded.data)).toEqual(Array.from(data));
    expect(decoded.data.buffer).not.toBe(shifted.buffer);
  });
});
