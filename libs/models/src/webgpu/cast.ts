/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { stockKernel } from './stock-kernels';

/**
 * Cast from int32 or bool to float32 on webgpu, converting the buffer.
 *
 * Why: tfjs-backend-webgpu 4.22 implements a cast "without encoding loss" (int32 or bool -> float32) by
 * relabelling the tensor and keeping its i32 buffer. Elementwise programs read the buffer's real type and
 * convert, but others index it as f32: Transpose (which Sum runs over non-innermost axes, as a Dice loss
 * does over a one-hot label cast from tf.oneHot) then fails to compile ("expected 'f32', got 'i32'") and its
 * output stays zeros. Converting here gives every later kernel a genuine f32 buffer, for one cheap pass.
 */
class CastToFloatProgram implements WebGPUProgram {
  readonly variableNames = ['x'];
  readonly workgroupSize: [number, number, number] = [64, 1, 1];
  readonly size = true;
  readonly outputShape: number[];
  readonly dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  shaderKey = 'fedsegCastToFloat';

  constructor(shape: readonly number[]) {
    this.outputShape = [...shape];
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    this.dispatch = [Math.ceil(shape.reduce((a, b) => a * b, 1) / this.workgroupSize[0]), 1, 1];
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          setOutputAtIndex(index, f32(x[index]));
        }
      }`;
  }
}

function cast(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: object;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as WebGPUBackend;
  const x = args.inputs['x']!;
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  const stock = stockKernel(tf.Cast);
  const fromIntegers = x.dtype === 'int32' || x.dtype === 'bool';
  // Small tensors whose values are on the CPU are cast there by the stock kernel, into a real float array.
  const onCpu = backend.shouldExecuteOnCPU([x]);
  if (stock && !(dtype === 'float32' && fromIntegers && !onCpu))
    return stock.kernelFunc(args) as tf.TensorInfo;
  if (tf.util.sizeFromShape(x.shape) === 0)
    return backend.makeTensorInfo(x.shape, 'float32', new Float32Array(0));
  return backend.runWebGPUProgram(new CastToFloatProgram(x.shape), [x], 'float32');
}

export const castWebGpuConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: 'webgpu',
  kernelFunc: cast as unknown as tf.KernelFunc,
};
