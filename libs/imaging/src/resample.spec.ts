import { cropLabel, cropVolume, foregroundBoundingBox, uncropLabel } from './bounding-box';
import { labelToNativeGrid, toPlanGrid } from './plan-grid';
import { resampledShape, resampleLabelToGrid, resampleVolume, resampleVolumeToGrid } from './resample';
import { createRng } from './rng';
import type { Shape3, Volume } from './volume';

/**
 * The slow obvious trilinear interpolation: sum over every source voxel q of v(q) * prod_a max(0, 1 - |p_a - q_a|)
 * at the continuous source index p = i * out / in (clamped to the grid). Shares no code with resample.ts.
 */
function slowTrilinear(src: Volume, outShape: Shape3, outMm: readonly number[]): Float32Array {
  const [nx, ny, nz] = src.shape;
  const c = src.channels;
  const out = new Float32Array(outShape[0] * outShape[1] * outShape[2] * c);
  let o = 0;
  for (let k = 0; k < outShape[2]; k++)
    for (let j = 0; j < outShape[1]; j++)
      for (let i = 0; i < outShape[0]; i++) {
        const p = [i, j, k].map((n, a) =>
          Math.min(Math.max((n * outMm[a]!) / src.spacingMm[a]!, 0), src.shape[a]! - 1),
        );
        for (let ch = 0; ch < c; ch++, o++) {
          let sum = 0;
          for (let z = 0; z < nz; z++)
            for (let y = 0; y < ny; y++)
              for (let x = 0; x < nx; x++) {
                const w =
                  Math.max(0, 1 - Math.abs(p[0]! - x)) *
                  Math.max(0, 1 - Math.abs(p[1]! - y)) *
                  Math.max(0, 1 - Math.abs(p[2]! - z));
                if (w > 0) sum += w * src.data[(x + nx * (y + ny * z)) * c + ch]!;
              }
          out[o] = sum;
        }
      }
  return out;
}

function randomVolume(
  shape: Shape3,
  spacingMm: [number, number, number],
  channels: number,
  seed: number,
): Volume {
  const rng = createRng(seed);
  const data = Float32Array.from({ length: shape[0] * shape[1] * shape[2] * channels }, () =>
    rng.uniform(-5, 5),
  );
  return { data, shape, spacingMm, channels };
}

describe('resampleVolumeToGrid', () => {
  it('matches scipy.ndimage.map_coordinates(order=1, mode="nearest") on a 5x4x3 volume', () => {
    // Numbers from libs/imaging/scripts/resample-reference.py (scipy 1.17.1, numpy 2.4.6), run offline.
    const [nx, ny, nz] = [5, 4, 3];
    const data = Float32Array.from({ length: nx * ny * nz }, (_, i) => ((i * 37) % 17) / 4);
    const out = resampleVolume(
      { data, shape: [nx, ny, nz], spacingMm: [1, 1.5, 2], channels: 1 },
      [0.7, 2, 1.3],
    );
    expect(out.shape).toEqual([7, 3, 5]);
    const scipy = [
      0.0, 0.525, 1.05, 1.575, 2.1, 2.625, 3.0, 3.583333, 2.125, 1.233333, 0.908333, 1.433333, 1.958333,
      2.333333, 2.916667, 3.441667, 2.266667, 0.241667, 0.766667, 1.291667, 1.666667, 1.4625, 1.9875, 2.5125,
      2.76125, 1.3525, 1.325, 1.7, 2.283333, 2.114167, 2.143333, 2.370833, 2.895833, 2.039583, 1.033333,
      1.616667, 2.141667, 2.071667, 1.704167, 2.229167, 2.29375, 2.208333, 1.65, 2.175, 2.7, 2.9275, 1.37,
      1.3, 1.675, 2.258333, 1.890833, 2.033333, 2.558333, 3.083333, 2.120833, 1.008333, 1.591667, 1.819167,
      1.876667, 1.891667, 2.416667, 2.445833, 2.325, 0.35, 0.875, 1.4, 1.90375, 2.28, 2.7625, 3.1375,
      3.720833, 1.419583, 0.733333, 1.258333, 1.783333, 2.202083, 2.470833, 3.054167, 2.637083, 1.681667,
      0.591667, 1.116667, 1.60625, 1.945833, 0.25, 0.775, 1.3, 1.825, 2.35, 2.875, 3.25, 3.833333, 1.383333,
      0.633333, 1.158333, 1.683333, 2.208333, 2.583333, 3.166667, 2.7, 1.666667, 0.491667, 1.016667, 1.541667,
      1.916667,
    ];
    expect(out.data).toHaveLength(scipy.length);
    out.data.forEach((v, i) => expect(v).toBeCloseTo(scipy[i]!, 5));
  });

  it('agrees with the slow obvious interpolation on a two-channel volume, up- and downsampling', () => {
    const src = randomVolume([6, 5, 4], [1.2, 0.8, 2.5], 2, 11);
    for (const [shape, mm] of [
      [
        [9, 3, 7],
        [0.75, 1.5, 1.4],
      ],
      [
        [3, 8, 2],
        [2.5, 0.5, 4],
      ],
    ] as Array<[Shape3, [number, number, number]]>) {
      const fast = resampleVolumeToGrid(src, shape, mm);
      const slow = slowTrilinear(src, shape, mm);
      expect(fast.shape).toEqual(shape);
      expect(fast.spacingMm).toEqual(mm);
      expect(fast.channels).toBe(2);
      fast.data.forEach((v, i) => expect(v).toBeCloseTo(slow[i]!, 5));
    }
  });

  it('is the identity onto the same grid', () => {
    const src = randomVolume([4, 3, 5], [0.9, 0.9, 3], 1, 3);
    expect(resampleVolumeToGrid(src, [4, 3, 5], [0.9, 0.9, 3]).data).toEqual(src.data);
  });

  it('refuses a non-positive spacing or a fractional shape, naming it', () => {
    const src = randomVolume([2, 2, 2], [1, 1, 1], 1, 1);
    expect(() => resampleVolumeToGrid(src, [2, 2, 2], [1, 0, 1])).toThrow(/target spacing 1x0x1/);
    expect(() => resampleVolumeToGrid(src, [2, 2.5, 2], [1, 1, 1])).toThrow(/target shape 2x2.5x2/);
  });
});

describe('resampleLabelToGrid', () => {
  it('picks the nearest source voxel, ties upward (hand-worked: 1 mm -> 1.5 mm reads 0, 2, 3 of 4)', () => {
    // x at 1.5 mm: output 0, 1, 2 sit at source indices 0, 1.5 (tie -> 2), 3. resampledShape(4, 1, 1.5) = 3.
    const label = Uint8Array.from([5, 6, 7, 8]);
    expect(resampledShape([4, 1, 1], [1, 1, 1], [1.5, 1, 1])).toEqual([3, 1, 1]);
    expect(Array.from(resampleLabelToGrid(label, [4, 1, 1], [1, 1, 1], [3, 1, 1], [1.5, 1, 1]))).toEqual([
      5, 7, 8,
    ]);
  });

  it('is the identity onto the same grid and never invents a class', () => {
    const label = Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 7) % 4);
    expect(resampleLabelToGrid(label, [5, 4, 3], [1, 2, 3], [5, 4, 3], [1, 2, 3])).toEqual(label);
    const up = resampleLabelToGrid(label, [5, 4, 3], [1, 2, 3], [11, 9, 10], [0.4, 0.9, 0.85]);
    expect(new Set(up)).toEqual(new Set([0, 1, 2, 3]));
  });
});

describe('cropping to the body', () => {
  it('finds the box of non-zero voxels in any channel, with a margin clipped to the volume', () => {
    const v: Volume = {
      data: new Float32Array(6 * 5 * 4 * 2),
      shape: [6, 5, 4],
      spacingMm: [1, 1, 1],
      channels: 2,
    };
    const at = (x: number, y: number, z: number, ch: number): number => (x + 6 * (y + 5 * z)) * 2 + ch;
    v.data[at(2, 1, 1, 0)] = 3;
    v.data[at(3, 3, 2, 1)] = -1; // negative counts: nnU-Net's mask is "non-zero"
    expect(foregroundBoundingBox(v)).toEqual({ start: [2, 1, 1], shape: [2, 3, 2] });
    expect(foregroundBoundingBox(v, { marginVoxels: 2 })).toEqual({ start: [0, 0, 0], shape: [6, 5, 4] });
    expect(foregroundBoundingBox(v, { threshold: 0 })).toEqual({ start: [2, 1, 1], shape: [1, 1, 1] });
    // No body at all: the whole volume (a case is never lost).
    expect(foregroundBoundingBox(v, { threshold: 10 })).toEqual({ start: [0, 0, 0], shape: [6, 5, 4] });
  });

  it('crops image and label alike and uncrop puts the label back with background around it', () => {
    const v = randomVolume([5, 4, 3], [1, 1, 1], 1, 5);
    const label = Uint8Array.from({ length: 60 }, (_, i) => 1 + (i % 3));
    const box = { start: [1, 2, 1] as Shape3, shape: [3, 2, 2] as Shape3 };
    const img = cropVolume(v, box);
    const lab = cropLabel(label, [5, 4, 3], box);
    for (let z = 0; z < 2; z++)
      for (let y = 0; y < 2; y++)
        for (let x = 0; x < 3; x++) {
          const src = x + 1 + 5 * (y + 2 + 4 * (z + 1));
          expect(img.data[x + 3 * (y + 2 * z)]).toBe(v.data[src]);
          expect(lab[x + 3 * (y + 2 * z)]).toBe(label[src]);
        }
    const back = uncropLabel(lab, box, [5, 4, 3]);
    back.forEach((l, i) => {
      const [x, y, z] = [i % 5, Math.floor(i / 5) % 4, Math.floor(i / 20)];
      const inside = x >= 1 && x < 4 && y >= 2 && y < 4 && z >= 1 && z < 3;
      expect(l).toBe(inside ? label[i] : 0);
    });
    expect(() => cropVolume(v, { start: [3, 0, 0], shape: [3, 1, 1] })).toThrow(/does not fit in 5x4x3/);
  });
});

describe('plan grid round trip', () => {
  it('crops, resamples to the plan spacing and brings a prediction back to the exact native label', () => {
    // A 2 mm case with a body box of 4x3x2 voxels; the plan is 1 mm, so each native voxel i lands on plan voxel 2i
    // and nearest-neighbour resampling back reads exactly those: the label must come back unchanged.
    const shape: Shape3 = [7, 6, 5];
    const image: Volume = { data: new Float32Array(210), shape, spacingMm: [2, 2, 2], channels: 1 };
    const label = new Uint8Array(210);
    for (let z = 1; z < 3; z++)
      for (let y = 2; y < 5; y++)
        for (let x = 1; x < 5; x++) {
          image.data[x + 7 * (y + 6 * z)] = 100 + x;
          label[x + 7 * (y + 6 * z)] = x % 2 ? 1 : 2;
        }
    const planCase = toPlanGrid(image, label, [1, 1, 1]);
    expect(planCase.native.crop).toEqual({ start: [1, 2, 1], shape: [4, 3, 2] });
    expect(planCase.image.shape).toEqual([8, 6, 4]);
    expect(planCase.image.spacingMm).toEqual([1, 1, 1]);
    // Halfway between native x = 1 (101) and x = 2 (102) on the plan grid: 101.5.
    expect(planCase.image.data[1]).toBeCloseTo(101.5, 5);
    const back = labelToNativeGrid(planCase.label!, planCase.image.shape, [1, 1, 1], planCase.native);
    expect(back).toEqual(label);
  });

  it('keeps everything at the same spacing without a crop', () => {
    const image = randomVolume([4, 3, 2], [1.5, 1.5, 1.5], 1, 9);
    const label = Uint8Array.from({ length: 24 }, (_, i) => i % 2);
    const planCase = toPlanGrid(image, label, [1.5, 1.5, 1.5], { noCrop: true });
    expect(planCase.image.data).toEqual(image.data);
    expect(labelToNativeGrid(planCase.label!, [4, 3, 2], [1.5, 1.5, 1.5], planCase.native)).toEqual(label);
  });
});
