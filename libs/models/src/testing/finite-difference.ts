/**
 * Central finite differences for gradient checks (tests only): g_i ~ (f(x + h e_i) - f(x - h e_i)) / 2h,
 * evaluated at the listed indices. Error O(h^2) from truncation plus about eps32 * |f| / h from float32
 * rounding of f.
 */
export function centralDifference(
  f: (x: Float32Array) => number,
  x: Float32Array,
  h: number,
  indices: readonly number[] = Array.from({ length: x.length }, (_, i) => i),
): Float64Array {
  const out = new Float64Array(indices.length);
  const probe = Float32Array.from(x);
  indices.forEach((i, k) => {
    const original = probe[i]!;
    probe[i] = original + h;
    const plus = f(probe);
    probe[i] = original - h;
    const minus = f(probe);
    probe[i] = original;
    // Divide by the step actually taken in float32, not the nominal h.
    const step = Math.fround(original + h) - Math.fround(original - h);
    out[k] = (plus - minus) / step;
  });
  return out;
}

/** ||a - b|| / ||b|| (Euclidean): the relative error of a whole gradient (or a sample of it). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < b.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    norm += b[i]! ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
}
