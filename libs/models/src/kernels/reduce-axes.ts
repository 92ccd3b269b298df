import { backend_util, util, type TensorInfo } from '@tensorflow/tfjs-core';
import { sizeOf } from './copy-blocks';

/** A reduction over a contiguous block of axes, seen as [outer, reduce, inner] -> [outer, inner]. */
export interface AxisBlock {
  outer: number;
  reduce: number;
  inner: number;
  outShape: number[];
}

/**
 * The [outer, reduce, inner] view of reducing `axis` of x, or null when the axes are not one contiguous
 * block (the caller then keeps the backend's kernel). The U-Net's reductions are all contiguous: spatial
 * axes [1, 2, 3] (instance norm), [0, 1, 2, 3] (bias gradients), the last axis (softmax, losses).
 */
export function axisBlock(x: TensorInfo, axis: number | number[], keepDims: boolean): AxisBlock | null {
  const axes = util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  if (axes.length === 0) return null;
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1] + 1) return null;
  const first = axes[0];
  const last = axes[axes.length - 1];
  const [reducedShape] = backend_util.computeOutAndReduceShapes(x.shape, axes);
  return {
    outer: sizeOf(x.shape, 0, first),
    reduce: sizeOf(x.shape, first, last + 1),
    inner: sizeOf(x.shape, last + 1),
    outShape: keepDims ? backend_util.expandShapeToKeepDim(reducedShape, axes) : reducedShape,
  };
}

/**
 * out[o, i] = scale * sum_r x[o, r, i], accumulated in float64 (tfjs accumulates in float32, so ours is
 * at least as accurate).
 */
export function sumBlock(x: Float32Array, block: AxisBlock, scale: number, out: Float32Array): void {
  const { outer, reduce, inner } = block;
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let acc = 0;
      const base = o * reduce;
      for (let r = 0; r < reduce; r++) acc += x[base + r];
      out[o] = acc * scale;
    }
    return;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    let offset = o * reduce * inner;
    for (let r = 0; r < reduce; r++) {
      for (let i = 0; i < inner; i++) acc[i] += x[offset + i];
      offset += inner;
    }
    for (let i = 0; i < inner; i++) out[o * inner + i] = acc[i] * scale;
  }
}
