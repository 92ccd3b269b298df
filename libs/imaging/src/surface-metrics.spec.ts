import { averageSurfaceDistance } from './average-surface-distance';
import { diceScore } from './dice-score';
import { evaluateSegmentation } from './evaluate-segmentation';
import { hausdorffDistance } from './hausdorff-distance';
import { hausdorff95 } from './hausdorff95';
import { createRng } from './rng';
import { summarizeMetrics } from './summarize-metrics';

type Shape = [number, number, number];

/** Independent reference: surface voxels by explicit 6-neighbour test, all pairwise distances, numpy-style percentile. */
function bruteSurface(mask: ArrayLike<number>, shape: Shape, label: number): number[][] {
  const [nx, ny, nz] = shape;
  const at = (x: number, y: number, z: number): boolean =>
    x >= 0 && y >= 0 && z >= 0 && x < nx && y < ny && z < nz && mask[x + nx * (y + ny * z)] === label;
  const out: number[][] = [];
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        if (!at(x, y, z)) continue;
        const nbrs = [
          at(x - 1, y, z),
          at(x + 1, y, z),
          at(x, y - 1, z),
          at(x, y + 1, z),
          at(x, y, z - 1),
          at(x, y, z + 1),
        ];
        if (nbrs.some((b) => !b)) out.push([x, y, z]);
      }
  return out;
}
function directed(a: number[][], b: number[][], s: number[]): number[] {
  return a.map((p) =>
    Math.min(...b.map((q) => Math.hypot((p[0] - q[0]) * s[0], (p[1] - q[1]) * s[1], (p[2] - q[2]) * s[2]))),
  );
}
function pct(values: number[], p: number): number {
  const v = [...values].sort((x, y) => x - y);
  const r = (p / 100) * (v.length - 1);
  const lo = Math.floor(r);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo] + (r - lo) * (v[hi] - v[lo]);
}

function sphere(shape: Shape, centre: number[], radius: number): Uint8Array {
  const [nx, ny, nz] = shape;
  const m = new Uint8Array(nx * ny * nz);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++)
        if (Math.hypot(x - centre[0], y - centre[1], z - centre[2]) <= radius) m[x + nx * (y + ny * z)] = 1;
  return m;
}

describe('surface metrics', () => {
  it('HD95, HD and ASSD agree with brute force on random anisotropic volumes to 1e-6', () => {
    const rng = createRng(11);
    for (let trial = 0; trial < 8; trial++) {
      const shape: Shape = [4 + rng.int(8), 4 + rng.int(8), 3 + rng.int(6)];
      const spacing: Shape = [rng.uniform(0.4, 1.5), rng.uniform(0.4, 1.5), rng.uniform(1, 4)];
      const n = shape[0] * shape[1] * shape[2];
      const pred = Uint8Array.from({ length: n }, () => (rng.next() < 0.4 ? 1 : rng.next() < 0.2 ? 2 : 0));
      const ref = Uint8Array.from({ length: n }, () => (rng.next() < 0.35 ? 1 : 0));
      const sp = bruteSurface(pred, shape, 1);
      const sr = bruteSurface(ref, shape, 1);
      const dpr = directed(sp, sr, spacing);
      const drp = directed(sr, sp, spacing);
      expect(
        Math.abs(hausdorff95(pred, ref, shape, spacing) - Math.max(pct(dpr, 95), pct(drp, 95))),
      ).toBeLessThan(1e-6);
      expect(Math.abs(hausdorffDistance(pred, ref, shape, spacing) - Math.max(...dpr, ...drp))).toBeLessThan(
        1e-6,
      );
      const assd = [...dpr, ...drp].reduce((a, b) => a + b, 0) / (dpr.length + drp.length);
      expect(Math.abs(averageSurfaceDistance(pred, ref, shape, spacing) - assd)).toBeLessThan(1e-6);
    }
  });

  it.each([1, 2, 3])(
    'gives HD = k * spacing for spheres offset by k = %i voxels along x (0.7 x 1.3 x 2.5 mm)',
    (k) => {
      const shape: Shape = [28, 20, 20];
      const spacing: Shape = [0.7, 1.3, 2.5];
      const a = sphere(shape, [10, 10, 10], 5);
      const b = sphere(shape, [10 + k, 10, 10], 5);
      expect(hausdorffDistance(a, b, shape, spacing)).toBeCloseTo(k * 0.7, 10);
    },
  );

  it('gives HD = sqrt(3) mm for spheres offset by (1,1,1) voxels at 1 mm', () => {
    const shape: Shape = [20, 20, 20];
    expect(
      hausdorffDistance(sphere(shape, [9, 9, 9], 5), sphere(shape, [10, 10, 10], 5), shape, [1, 1, 1]),
    ).toBeCloseTo(Math.sqrt(3), 10);
  });

  it('scores identical masks 0 mm and Dice 1', () => {
    const shape: Shape = [12, 12, 12];
    const a = sphere(shape, [6, 6, 6], 4);
    expect(hausdorff95(a, a, shape, [1, 2, 3])).toBe(0);
    expect(averageSurfaceDistance(a, a, shape, [1, 2, 3])).toBe(0);
    expect(diceScore(a, a)).toBe(1);
  });

  it('returns NaN distances when either mask is empty, Dice NaN when the reference is (MONAI)', () => {
    const shape: Shape = [6, 6, 6];
    const empty = new Uint8Array(216);
    const a = sphere(shape, [3, 3, 3], 2);
    expect(hausdorff95(empty, a, shape, [1, 1, 1])).toBeNaN();
    expect(hausdorff95(a, empty, shape, [1, 1, 1])).toBeNaN();
    expect(averageSurfaceDistance(empty, empty, shape, [1, 1, 1])).toBeNaN();
    expect(diceScore(empty, empty)).toBeNaN();
    // MONAI DiceMetric(ignore_empty=True): an empty reference makes the case undefined, even with false
    // positives; a missed structure (empty prediction, non-empty reference) scores 0.
    expect(diceScore(a, empty)).toBeNaN();
    expect(diceScore(empty, a)).toBe(0);
  });

  it('computes Dice per class by hand: 2*2/(3+3)', () => {
    const pred = [1, 1, 1, 0, 2, 2];
    const ref = [1, 1, 0, 1, 2, 0];
    expect(diceScore(pred, ref, 1)).toBeCloseTo(4 / 6, 12);
    expect(diceScore(pred, ref, 2)).toBeCloseTo(2 / 3, 12);
  });

  it('evaluates every class of a case and averages cases excluding (and counting) NaN', () => {
    const shape: Shape = [20, 20, 20];
    const ref = sphere(shape, [10, 10, 10], 6);
    const pred = sphere(shape, [11, 10, 10], 6);
    // Class 2 exists in neither map in case 1, and in both (identical) in case 2.
    const withLesion = (m: Uint8Array): Uint8Array =>
      m.map((v, i) => (i === 10 + 20 * (10 + 20 * 10) ? 2 : v));
    const case1 = evaluateSegmentation(pred, ref, shape, [1, 1, 1], [1, 2]);
    const case2 = evaluateSegmentation(withLesion(ref), withLesion(ref), shape, [1, 1, 1], [1, 2]);
    expect(case1[0].hd95Mm).toBeGreaterThan(0);
    expect(case1[1].dice).toBeNaN();
    const [organ, lesion] = summarizeMetrics([case1, case2]);
    expect(organ.dice.mean).toBeCloseTo((case1[0].dice + case2[0].dice) / 2, 12);
    expect(lesion.dice).toEqual({ mean: 1, defined: 1, undefinedCases: 1 });
    expect(lesion.hd95Mm).toEqual({ mean: 0, defined: 1, undefinedCases: 1 });
  });
});
