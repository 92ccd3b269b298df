import type { NativeKernels } from './native-addon';

/**
 * Copy loops behind the 5-D slice, split and concat kernels. tfjs-wasm's Slice takes a generic
 * element-at-a-time path above rank 4 (about 470 ms for 2x32^3x8, BENCHMARKS.md), and the U-Net's
 * skip connections concatenate and split 5-D tensors along channels every step. Viewing a tensor as
 * [rows, rowLength] around the axis turns concat/split into row copies.
 */

/** Product of shape[from..to). */
export function sizeOf(shape: readonly number[], from = 0, to = shape.length): number {
  let n = 1;
  for (let i = from; i < to; i++) n *= shape[i];
  return n;
}

/** Copies `length` floats; a plain loop beats `set(subarray())` for the short runs (channel counts) seen here. */
export function copyRun(
  src: Float32Array,
  srcOffset: number,
  dst: Float32Array,
  dstOffset: number,
  length: number,
): void {
  if (length >= 64) {
    dst.set(src.subarray(srcOffset, srcOffset + length), dstOffset);
    return;
  }
  for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i];
}

/**
 * Writes rows of each part side by side: part k is [rows, lengths[k]], the whole is [rows, sum(lengths)].
 * `toWhole` true concatenates parts into whole; false splits whole into parts. With the addon (or, on wasm,
 * the SIMD module's copy_rows, in place on the heap), each part is one call (memcpy per row).
 */
export function interleaveRows(
  whole: Float32Array,
  parts: readonly Float32Array[],
  lengths: readonly number[],
  rows: number,
  toWhole: boolean,
  native: Pick<NativeKernels, 'copyRows'> | null = null,
): void {
  let total = 0;
  for (const l of lengths) total += l;
  let column = 0;
  for (let k = 0; k < parts.length; k++) {
    const part = parts[k];
    const length = lengths[k];
    if (native) {
      if (toWhole) native.copyRows(part, whole, Int32Array.of(0, length, column, total, rows, length));
      else native.copyRows(whole, part, Int32Array.of(column, total, 0, length, rows, length));
    } else {
      for (let r = 0; r < rows; r++) {
        if (toWhole) copyRun(part, r * length, whole, r * total + column, length);
        else copyRun(whole, r * total + column, part, r * length, length);
      }
    }
    column += length;
  }
}

/**
 * General N-D slice: copies the box [begin, begin + size) of src (shaped `shape`) into dst, row-major.
 * Trailing axes the box spans completely merge into one contiguous run per copy.
 */
export function sliceInto(
  src: Float32Array,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  dst: Float32Array,
): void {
  const rank = shape.length;
  if (rank === 0) {
    dst[0] = src[0];
    return;
  }
  // Innermost axis `last` such that every axis after it is taken whole: one run covers size[last] * inner.
  let last = rank - 1;
  while (last > 0 && size[last] === shape[last] && begin[last] === 0) last--;
  const inner = sizeOf(shape, last + 1);
  const run = size[last] * inner;
  const strides: number[] = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  const outer = sizeOf(size, 0, last);
  const index = new Array<number>(last).fill(0);
  let dstOffset = 0;
  for (let o = 0; o < outer; o++) {
    let srcOffset = begin[last] * strides[last];
    for (let i = 0; i < last; i++) srcOffset += (begin[i] + index[i]) * strides[i];
    copyRun(src, srcOffset, dst, dstOffset, run);
    dstOffset += run;
    for (let i = last - 1; i >= 0; i--) {
      if (++index[i] < size[i]) break;
      index[i] = 0;
    }
  }
}
