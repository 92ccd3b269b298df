/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { stockKernel } from './stock-kernels';

/**
 * PadV2 (constant padding) for tfjs-backend-webgpu, any rank up to 8.
 *
 * Why: tfjs-backend-webgpu 4.22's PadProgram indexes its shape uniforms (`uniforms.xShape[i]`), but for rank
 * 5 and 6 those uniforms are WGSL structs (`vec5`, `vec6`), which cannot be indexed, so the shader fails to
 * compile ("cannot index type 'vec5'") and the output stays zero. Our 3D networks pad NDHWC (rank 5)
 * tensors in the backward pass: the gradient of Slice (and so of SplitV, the gradient of Concat at every
 * U-Net skip connection) is a PadV2 of the upstream gradient. Without this kernel every decoder gradient is
 * wrong on webgpu.
 *
 * The shader avoids the rank-specific helpers: shapes, strides and paddings go in as vec4<i32> pairs
 * (dimensions padded to 8 with size 1), and the per-dimension loop is unrolled in the generated WGSL, so
 * only constant vector indices appear.
 */
const MAX_RANK = 8;

function halves(values: readonly number[], fill: number): [number[], number[]] {
  const padded = [...values, ...new Array<number>(MAX_RANK - values.length).fill(fill)];
  return [padded.slice(0, 4), padded.slice(4, 8)];
}

class PadAnyRankProgram implements WebGPUProgram {
  readonly variableNames = ['x'];
  readonly workgroupSize: [number, number, number] = [64, 1, 1];
  readonly size = true;
  readonly outputShape: number[];
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey: string;
  readonly uniforms =
    'padOutShapeA : vec4<i32>, padOutShapeB : vec4<i32>, padXShapeA : vec4<i32>, padXShapeB : vec4<i32>, ' +
    'padXStridesA : vec4<i32>, padXStridesB : vec4<i32>, padBeforeA : vec4<i32>, padBeforeB : vec4<i32>, padValue : f32,';

  constructor(
    private readonly rank: number,
    outputShape: number[],
  ) {
    this.outputShape = outputShape;
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    const size = outputShape.reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(size / this.workgroupSize[0]), 1, 1];
    this.shaderKey = `fedsegPadV2_${rank}`;
  }

  getUserCode(): string {
    const field = (name: string, dim: number): string => `uniforms.${name}${dim < 4 ? 'A' : 'B'}[${dim % 4}]`;
    let body = '';
    // Innermost dimension first: peel the output coordinate off the flat index, shift it by the leading
    // padding and accumulate the input's flat index; any coordinate outside the input gives padValue.
    for (let d = this.rank - 1; d >= 0; d--) {
      body += `
          {
            let outDim = ${field('padOutShape', d)};
            let xc = rem % outDim - ${field('padBefore', d)};
            rem = rem / outDim;
            inside = inside && xc >= 0 && xc < ${field('padXShape', d)};
            xIndex = xIndex + xc * ${field('padXStrides', d)};
          }`;
    }
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var rem = index;
          var xIndex = 0;
          var inside = true;${body}
          if (inside) {
            setOutputAtIndex(index, x[xIndex]);
          } else {
            setOutputAtIndex(index, uniforms.padValue);
          }
        }
      }`;
  }
}

function padV2(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: object;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as WebGPUBackend;
  const x = args.inputs['x']!;
  const { paddings, constantValue } = args.attrs as unknown as tf.PadV2Attrs;
  const rank = x.shape.length;
  // The stock kernel is right below rank 5 and for int32; ours covers what it gets wrong.
  const stock = stockKernel(tf.PadV2);
  if (stock && (rank < 5 || x.dtype !== 'float32')) return stock.kernelFunc(args) as tf.TensorInfo;
  if (rank > MAX_RANK)
    throw new Error(`PadV2 on webgpu: tensor x has rank ${rank}; at most ${MAX_RANK} is supported`);
  if (x.dtype !== 'float32')
    throw new Error(`PadV2 on webgpu: tensor x has dtype ${x.dtype}; only float32 is supported`);
  const outputShape = x.shape.map((n, i) => paddings[i]![0] + n + paddings[i]![1]);
  const program = new PadAnyRankProgram(rank, outputShape);
  const xStrides = x.shape.map((_, i) => x.shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const uniforms = [
    ...halves(outputShape, 1),
    ...halves(x.shape, 1),
    ...halves(xStrides, 0),
    ...halves(
      paddings.map((p) => p[0]),
      0,
    ),
  ].map((data) => ({ type: 'int32', data }));
  uniforms.push({ type: 'float32', data: [constantValue] });
  return backend.runWebGPUProgram(program, [x], x.dtype, uniforms);
}

export const padV2WebGpuConfig: tf.KernelConfig = {
  kernelName: tf.PadV2,
  backendName: 'webgpu',
  kernelFunc: padV2 as unknown as tf.KernelFunc,
};
