/**
 * Sorts the first `n` values of `a` ascending. Insertion sort for the small N of a round (a few dozen sites
 * at most: fewer moves than a general sort and no allocation); the built-in sort above that.
 */
export function sortSmall(a: Float64Array, n: number): void {
  if (n > 48) {
    a.subarray(0, n).sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= 0 && a[j] > x) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
}
