import { augmentPatch } from './augment-patch';
import { cropOrPad } from './crop-or-pad';
import { resampleLabel, resampledShape, resampleVolume } from './resample';
import type { Patch } from './sample-patches';
import type { Volume } from './volume';

function field(
  shape: [number, number, number],
  spacing: [number, number, number],
  f: (x: number, y: number, z: number) => number,
): Volume {
  const [nx, ny, nz] = shape;
  const data = new Float32Array(nx * ny * nz);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++)
        data[x + nx * (y + ny * z)] = f(x * spacing[0], y * spacing[1], z * spacing[2]);
  return { data, shape, spacingMm: spacing, channels: 1 };
}

describe('resampling', () => {
  it('reproduces a linear function of position (mm) exactly with trilinear interpolation', () => {
    const f = (x: number, y: number, z: number): number => 2 * x - 0.5 * y + 0.25 * z + 3;
    const src = field([9, 7, 5], [1, 1, 4], f);
    const out = resampleVolume(src, [0.5, 1.5, 2]);
    expect(out.shape).toEqual(resampledShape([9, 7, 5], [1, 1, 4], [0.5, 1.5, 2]));
    expect(out.shape).toEqual([18, 5, 10]);
    // Compare inside the source grid (x <= 8 mm, y <= 6 mm, z <= 16 mm); beyond it edges are replicated.
    for (let z = 0; z < 9; z++)
      for (let y = 0; y < 5; y++)
        for (let x = 0; x < 17; x++)
          expect(out.data[x + 18 * (y + 5 * z)]).toBeCloseTo(f(x * 0.5, y * 1.5, z * 2), 4);
  });

  it('keeps the data unchanged at the same spacing', () => {
    const src = field([4, 3, 2], [0.7, 0.7, 3], (x, y, z) => x * y + z);
    expect(Array.from(resampleVolume(src, [0.7, 0.7, 3]).data)).toEqual(Array.from(src.data));
  });

  it('resamples labels by nearest neighbour: no new class values, downsampling by 2 keeps even voxels', () => {
    const label = Uint8Array.from({ length: 4 * 4 * 2 }, (_, i) => i % 3);
    const out = resampleLabel(label, [4, 4, 2], [1, 1, 1], [2, 2, 1]);
    expect(out.shape).toEqual([2, 2, 2]);
    expect(Array.from(out.label)).toEqual([0, 2, 8, 10, 16, 18, 24, 26].map((i) => label[i]));
    const up = resampleLabel(label, [4, 4, 2], [1, 1, 1], [0.5, 0.5, 0.5]);
    expect(new Set(up.label)).toEqual(new Set([0, 1, 2]));
  });
});

describe('cropOrPad', () => {
  it('crops centrally where larger and zero-pads where smaller, image and label together', () => {
    const src = field([5, 2, 1], [1, 1, 1], (x, y) => 1 + x + 10 * y);
    const label = Uint8Array.from(src.data, (v) => v % 2);
    const out = cropOrPad(src, label, [3, 4, 1]);
    // x: crop start floor((5-3)/2)=1 -> x 1..3; y: pad start floor((2-4)/2)=-1 -> one zero row before, one after.
    expect(Array.from(out.image.data)).toEqual([0, 0, 0, 2, 3, 4, 12, 13, 14, 0, 0, 0]);
    expect(Array.from(out.label)).toEqual([0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0]);
  });
});

describe('augmentPatch', () => {
  // Image value = voxel index (2 channels: index and -index), label = index % 5: alignment is checkable.
  const shape: [number, number, number] = [4, 4, 3];
  const n = 48;
  const patch: Patch = {
    image: Float32Array.from({ length: n * 2 }, (_, i) => (i % 2 ? -Math.floor(i / 2) : Math.floor(i / 2))),
    label: Uint8Array.from({ length: n }, (_, i) => i % 5),
    shape,
  };
  const geometryOnly = {
    scaleRange: [1, 1] as [number, number],
    shiftRange: [0, 0] as [number, number],
    noiseProbability: 0,
  };

  it('moves image and label together and is a permutation of voxels', () => {
    for (let seed = 0; seed < 20; seed++) {
      const out = augmentPatch(patch, { ...geometryOnly, seed });
      for (let v = 0; v < n; v++) {
        const src = out.image[2 * v];
        expect(out.image[2 * v + 1] + src).toBe(0);
        expect(out.label[v]).toBe(src % 5);
      }
      expect(Array.from(out.image.filter((_, i) => i % 2 === 0)).sort((a, b) => a - b)).toEqual(
        Array.from({ length: n }, (_, i) => i),
      );
    }
  });

  it('is deterministic by seed and does something for some seed', () => {
    expect(augmentPatch(patch, { seed: 4 })).toEqual(augmentPatch(patch, { seed: 4 }));
    const changed = Array.from({ length: 10 }, (_, s) =>
      augmentPatch(patch, { ...geometryOnly, seed: s }),
    ).some((p) => p.image[0] !== 0);
    expect(changed).toBe(true);
  });

  it('applies scale and shift to the image only', () => {
    const out = augmentPatch(patch, {
      flipProbability: 0,
      rotate90: false,
      scaleRange: [2, 2],
      shiftRange: [1, 1],
      noiseProbability: 0,
    });
    expect(out.image[2 * 5]).toBe(5 * 2 + 1);
    expect(out.label).toEqual(patch.label);
  });
});
