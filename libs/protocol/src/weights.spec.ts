import { decodeWeights, encodeWeights, sameManifest, weightCount } from './weights';

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
});
