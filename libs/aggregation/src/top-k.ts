import { UpdateCodecError } from './aggregation-error';

// Math functions bound once: hot loops then skip a global lookup, which is slow inside jest's vm context.
const { abs } = Math;
const { isFinite } = Number;

/**
 * The k-th largest value of `a` (1-based), reordering `a` in place: quickselect with median-of-three
 * pivots, O(n) on average (Hoare, 1961).
 */
function kthLargest(a: Float32Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1; // index in descending order
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x > y ? (y > z ? y : x > z ? z : x) : x > z ? x : y > z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] > pivot) i++;
      while (a[j] < pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target];
  }
  return a[target];
}

/**
 * Top-k sparsification (Aji & Heafield, 2017, "Sparse Communication for Distributed Gradient Descent"):
 * exactly k entries of largest magnitude, ties at the threshold broken by lower index. Returns their
 * indices ascending and their values.
 */
export function topK(src: Float32Array, k: number): { indices: Int32Array; values: Float32Array } {
  if (!Number.isInteger(k) || k < 0 || k > src.length)
    throw new UpdateCodecError(`top-k needs 0 <= k <= ${src.length}, got ${k}.`);
  const indices = new Int32Array(k);
  const values = new Float32Array(k);
  if (k === 0) return { indices, values };
  const mags = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const m = abs(src[i]);
    if (!isFinite(m))
      throw new UpdateCodecError(
        `Update value ${src[i]} at index ${i} is not finite; the site's training diverged.`,
      );
    mags[i] = m;
  }
  const threshold = kthLargest(mags, k);
  let above = 0;
  for (let i = 0; i < src.length; i++) if (abs(src[i]) > threshold) above++;
  let ties = k - above;
  let n = 0;
  for (let i = 0; i < src.length && n < k; i++) {
    const m = abs(src[i]);
    if (m > threshold || (m === threshold && ties-- > 0)) {
      indices[n] = i;
      values[n] = src[i];
      n++;
    }
  }
  return { indices, values };
}
