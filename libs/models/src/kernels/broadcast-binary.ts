import { backend_util, util, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core';
import { backendOf, inputOf, runOriginal, type KernelArgs, type KernelContext } from './kernel-context';
import { allocateAndView } from './tensor-memory';

/** b's shape without leading 1s is a suffix of a's: b tiles a (same shape, per-channel, scalar). */
function tiles(a: readonly number[], b: readonly number[]): boolean {
  let start = 0;
  while (start < b.length && b[start] === 1) start++;
  const core = b.slice(start);
  if (core.length > a.length) return false;
  const offset = a.length - core.length;
  return core.every((d, i) => d === a[offset + i]);
}

/**
 * Add or Multiply of float32 tensors where one operand tiles the other (bias adds, per-channel scales, the
 * gradient sums of a training step) in the addon: one pass, both cores. Other broadcasts and dtypes keep
 * the backend's kernel. Only registered with the addon (wasm's own SIMD loop is fine otherwise).
 */
export function broadcastBinaryKernel(
  kernelName: string,
  op: 0 | 1,
  ctx: KernelContext,
): KernelConfig | null {
  const native = ctx.native;
  if (!native) return null;
  return {
    kernelName,
    backendName: ctx.backendName,
    kernelFunc: (args: KernelArgs) => {
      let a: TensorInfo = inputOf(args, kernelName, 'a');
      let b: TensorInfo = inputOf(args, kernelName, 'b');
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return runOriginal(ctx, args);
      const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      if (!util.arraysEqual(outShape, a.shape) || !tiles(a.shape, b.shape)) {
        // Both ops commute: try the other way round.
        if (!util.arraysEqual(outShape, b.shape) || !tiles(b.shape, a.shape)) return runOriginal(ctx, args);
        [a, b] = [b, a];
      }
      if (util.sizeFromShape(b.shape) === 0) return runOriginal(ctx, args);
      const mem = allocateAndView(ctx.backendName, backendOf(args), [a, b], outShape);
      if (!mem) return runOriginal(ctx, args);
      native.broadcastBinary(op, mem.inputs[0], mem.inputs[1], mem.outValues);
      return mem.out;
    },
  };
}
