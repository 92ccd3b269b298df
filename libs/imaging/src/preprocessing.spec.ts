import { ctWindow } from './ct-window';
import { otsuThreshold } from './otsu-threshold';
import { samplePatches } from './sample-patches';
import type { Volume } from './volume';
import { zScoreNormalize } from './z-score-normalize';

const vol = (data: number[], shape: [number, number, number], channels = 1): Volume => ({
  data: Float32Array.from(data),
  shape,
  spacingMm: [1, 1, 1],
  channels,
});

describe('ctWindow', () => {
  it('clips to centre +- width/2 and maps it to [0, 1] (abdomen window 40/400)', () => {
    const out = ctWindow(vol([-1000, -160, 40, 240, 3000, 140], [6, 1, 1]), { centerHu: 40, widthHu: 400 });
    expect(Array.from(out.data)).toEqual([0, 0, 0.5, 1, 1, 0.75]);
  });
});

describe('zScoreNormalize', () => {
  it('uses only the foreground for mean and std, transforms every voxel', () => {
    // Foreground 2, 4, 6 (mean 4, population std sqrt(8/3)); background 0 and 100 excluded by the mask.
    const out = zScoreNormalize(vol([2, 4, 6, 0, 100], [5, 1, 1]), { foreground: [1, 1, 1, 0, 0] });
    const s = Math.sqrt(8 / 3);
    [(2 - 4) / s, 0, 2 / s, -4 / s, 96 / s].forEach((want, i) => expect(out.data[i]).toBeCloseTo(want, 5));
  });

  it('finds the body by Otsu per channel when no mask is given', () => {
    // Channel 0: air 0 vs body 10/12; channel 1: air 100 vs body 300/340.
    const data = [0, 100, 0, 100, 10, 300, 12, 340];
    const out = zScoreNormalize(vol(data, [4, 1, 1], 2));
    expect(out.data[4]).toBeCloseTo(-1, 5);
    expect(out.data[6]).toBeCloseTo(1, 5);
    expect(out.data[5]).toBeCloseTo(-1, 5);
    expect(out.data[7]).toBeCloseTo(1, 5);
  });

  it('Otsu splits two clusters between them', () => {
    const t = otsuThreshold(Float32Array.from([1, 1.2, 0.9, 1.1, 9, 9.5, 10, 10.2]));
    expect(t).toBeGreaterThan(1.2);
    expect(t).toBeLessThan(9);
  });
});

describe('samplePatches', () => {
  const shape: [number, number, number] = [10, 9, 8];
  const n = 10 * 9 * 8;
  const image = vol(
    Array.from({ length: n * 2 }, (_, i) => i),
    shape,
    2,
  );
  const label = new Uint8Array(n);
  label[3 + 10 * (4 + 9 * 5)] = 1; // one foreground voxel at (3, 4, 5)

  it('is deterministic by seed and copies voxels (both channels) and labels from the right place', () => {
    const a = samplePatches(image, label, { patchSize: [4, 4, 4], count: 5, seed: 3 });
    const b = samplePatches(image, label, { patchSize: [4, 4, 4], count: 5, seed: 3 });
    expect(a).toEqual(b);
    for (const p of a) {
      // Every image value encodes its source voxel: value = 2 * index + c.
      const v0 = p.image[0] / 2;
      const sx = v0 % 10;
      const sy = Math.floor(v0 / 10) % 9;
      const sz = Math.floor(v0 / 90);
      expect(p.image[2 * (1 + 4 * (2 + 4 * 3)) + 1]).toBe(2 * (sx + 1 + 10 * (sy + 2 + 9 * (sz + 3))) + 1);
    }
  });

  it('centres the oversampled share of patches on foreground', () => {
    const patches = samplePatches(image, label, {
      patchSize: [4, 4, 4],
      count: 8,
      foregroundRatio: 0.5,
      seed: 1,
    });
    const withFg = patches.filter((p) => p.label.some((x) => x === 1)).length;
    expect(withFg).toBeGreaterThanOrEqual(4);
    // With count 1 per call, stochastic rounding gives the ratio on average.
    const fgCalls = Array.from(
      { length: 200 },
      (_, s) =>
        samplePatches(image, label, { patchSize: [2, 2, 2], count: 1, foregroundRatio: 0.5, seed: s })[0],
    ).filter((p) => p.label.some((x) => x === 1)).length;
    expect(fgCalls).toBeGreaterThan(70);
    expect(fgCalls).toBeLessThan(130);
  });

  it('zero-pads a patch larger than the volume', () => {
    const [p] = samplePatches(image, label, { patchSize: [12, 9, 8], count: 1, foregroundRatio: 0, seed: 1 });
    expect(p.shape).toEqual([12, 9, 8]);
    expect(p.image[0]).toBe(0); // x = 0 is padding (start -1)
    expect(p.image[2]).toBe(0); // x = 1 -> source voxel 0, channel 0: value 0
    expect(p.image[4]).toBe(2); // x = 2 -> source voxel 1, channel 0
  });
});
