import * as tf from '@tensorflow/tfjs-core';
import { stockKernel } from './stock-kernels';

/**
 * Broadcasting binary ops (Add, Multiply, Sub, RealDiv, ...) on webgpu between a 5-D (or 6-D) tensor and a
 * 1-D one.
 *
 * Why: tfjs-backend-webgpu 4.22's BinaryOpProgram takes a "shared memory" path when one operand is 1-D with
 * fewer than 128 elements, and that path reads `coords[rank - 1]`; for rank 5 and 6 the coordinates are a
 * WGSL struct (`vec5`), which cannot be indexed, so the shader does not compile and the output is zeros.
 * Our networks hit exactly that: a bias or a normalization gamma/beta of C < 128 channels added to or
 * multiplied with an NDHWC activation, forward and (through the gradients' reductions) backward.
 *
 * Fix: reshape the 1-D operand to [1, 1, 1, 1, C] (free on webgpu: same buffer, new shape) so the stock
 * kernel takes its general broadcasting path, which handles rank 5 correctly. One wrapper serves every
 * binary kernel that shares the program, hence one file for the whole family.
 */
export const BROADCAST_BINARY_KERNELS: readonly string[] = [
  tf.Add,
  tf.Atan2,
  tf.Equal,
  tf.FloorDiv,
  tf.Greater,
  tf.GreaterEqual,
  tf.Less,
  tf.LessEqual,
  tf.LogicalAnd,
  tf.LogicalOr,
  tf.Maximum,
  tf.Minimum,
  tf.Mod,
  tf.Multiply,
  tf.NotEqual,
  tf.Pow,
  tf.RealDiv,
  tf.SquaredDifference,
  tf.Sub,
];

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: object & { disposeData(dataId: object): boolean };
  attrs?: tf.NamedAttrMap;
}

/** Whether `small` is the 1-D operand of the broken path against a rank-5+ `other`. */
function needsLift(small: tf.TensorInfo, other: tf.TensorInfo): boolean {
  return small.shape.length === 1 && other.shape.length >= 5;
}

function broadcastBinary(kernelName: string): tf.KernelFunc {
  return ((args: KernelArgs): tf.TensorInfo => {
    const stock = stockKernel(kernelName);
    if (!stock) throw new Error(`webgpu has no stock ${kernelName} kernel to wrap`);
    const reshape = stockKernel(tf.Reshape) ?? tf.getKernel(tf.Reshape, 'webgpu');
    const a = args.inputs['a']!;
    const b = args.inputs['b']!;
    const liftA = needsLift(a, b);
    const liftB = needsLift(b, a);
    if (!reshape || (!liftA && !liftB)) return stock.kernelFunc(args) as tf.TensorInfo;
    const lift = (small: tf.TensorInfo, rank: number): tf.TensorInfo =>
      reshape.kernelFunc({
        inputs: { x: small },
        backend: args.backend as unknown as tf.KernelBackend,
        attrs: { shape: [...new Array<number>(rank - 1).fill(1), small.shape[0]!] },
      }) as tf.TensorInfo;
    const liftedA = liftA ? lift(a, b.shape.length) : a;
    const liftedB = liftB ? lift(b, a.shape.length) : b;
    try {
      return stock.kernelFunc({
        ...args,
        inputs: { a: liftedA, b: liftedB },
      } as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    } finally {
      // The reshaped views hold a reference to the operand's buffer; release it (the operand keeps its own).
      if (liftA) args.backend.disposeData(liftedA.dataId);
      if (liftB) args.backend.disposeData(liftedB.dataId);
    }
  }) as unknown as tf.KernelFunc;
}

export const broadcastBinaryWebGpuConfigs: readonly tf.KernelConfig[] = BROADCAST_BINARY_KERNELS.map(
  (kernelName) => ({
    kernelName,
    backendName: 'webgpu',
    kernelFunc: broadcastBinary(kernelName),
  }),
);
