import { euclideanDistanceTransform } from './distance-transform';
import { createRng } from './rng';

/** O(N * F) reference: the definition itself, nearest feature by exhaustive search. */
function bruteForce(
  features: Uint8Array,
  shape: [number, number, number],
  spacing: [number, number, number],
): Float64Array {
  const [nx, ny] = shape;
  const pts: number[][] = [];
  features.forEach((f, i) => {
    if (f) pts.push([i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))]);
  });
  return Float64Array.from(features, (_, i) => {
    const p = [i % nx, Math.floor(i / nx) % ny, Math.floor(i / (nx * ny))];
    let best = Infinity;
    for (const q of pts)
      best = Math.min(
        best,
        Math.hypot((p[0] - q[0]) * spacing[0], (p[1] - q[1]) * spacing[1], (p[2] - q[2]) * spacing[2]),
      );
    return best;
  });
}

describe('euclideanDistanceTransform', () => {
  it('matches brute force on random sparse volumes with anisotropic spacing to 1e-9', () => {
    const rng = createRng(3);
    for (let trial = 0; trial < 6; trial++) {
      const shape: [number, number, number] = [3 + rng.int(9), 3 + rng.int(9), 2 + rng.int(7)];
      const spacing: [number, number, number] = [
        rng.uniform(0.3, 2),
        rng.uniform(0.3, 2),
        rng.uniform(0.5, 5),
      ];
      const n = shape[0] * shape[1] * shape[2];
      const density = [0.01, 0.05, 0.3][trial % 3];
      const features = Uint8Array.from({ length: n }, () => (rng.next() < density ? 1 : 0));
      features[rng.int(n)] = 1;
      const got = euclideanDistanceTransform(features, shape, spacing);
      const want = bruteForce(features, shape, spacing);
      for (let i = 0; i < n; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-9);
    }
  });

  it('matches brute force across several gathered blocks of lines (x extent 19, not a multiple of 8)', () => {
    const rng = createRng(8);
    const shape: [number, number, number] = [19, 13, 6];
    const spacing: [number, number, number] = [0.6, 1.7, 3.1];
    const features = Uint8Array.from({ length: 19 * 13 * 6 }, () => (rng.next() < 0.02 ? 1 : 0));
    const got = euclideanDistanceTransform(features, shape, spacing);
    const want = bruteForce(features, shape, spacing);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-9);
  });

  it('gives Infinity everywhere when there is no feature voxel', () => {
    const d = euclideanDistanceTransform(new Uint8Array(27), [3, 3, 3], [1, 1, 1]);
    expect([...d].every((x) => x === Infinity)).toBe(true);
  });

  it('measures a single feature in millimetres along each axis', () => {
    const shape: [number, number, number] = [5, 4, 3];
    const f = new Uint8Array(60);
    f[0] = 1;
    const d = euclideanDistanceTransform(f, shape, [0.5, 2, 3]);
    expect(d[4]).toBeCloseTo(2, 12); // x = 4 -> 4 * 0.5 mm
    expect(d[3 * 5]).toBeCloseTo(6, 12); // y = 3 -> 3 * 2 mm
    expect(d[2 * 20]).toBeCloseTo(6, 12); // z = 2 -> 2 * 3 mm
    expect(d[4 + 3 * 5 + 2 * 20]).toBeCloseTo(Math.hypot(2, 6, 6), 12);
  });
});
