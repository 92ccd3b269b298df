import {
  backend_util,
  Concat,
  util,
  type ConcatAttrs,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { interleaveRows, sizeOf } from './copy-blocks';
import { backendOf, runOriginal, type FastKernel, type KernelArgs } from './kernel-context';
import { allocateAndView } from './tensor-memory';

/** Concat of float32 tensors: row copies over the [rows, rowLength] view around the axis. */
export const concatKernel: FastKernel = {
  kernelName: Concat,
  make: (ctx): KernelConfig => ({
    kernelName: Concat,
    backendName: ctx.backendName,
    kernelFunc: (args: KernelArgs) => {
      // Concat's inputs arrive as an array-like map keyed 0..n-1.
      const tensors = Object.values(args.inputs).filter((t): t is TensorInfo => t !== undefined);
      if (tensors.length === 0) return runOriginal(ctx, args);
      const { axis } = args.attrs as unknown as ConcatAttrs;
      const $axis = util.parseAxisParam(axis, tensors[0].shape)[0];
      const outShape = backend_util.computeOutShape(
        tensors.map((t) => t.shape),
        $axis,
      );
      const mem = allocateAndView(ctx.backendName, backendOf(args), tensors, outShape);
      if (!mem) return runOriginal(ctx, args);
      interleaveRows(
        mem.outValues,
        mem.inputs,
        tensors.map((t) => sizeOf(t.shape, $axis)),
        sizeOf(outShape, 0, $axis),
        true,
        ctx.native ?? (ctx.backendName === 'wasm' ? (ctx.simd?.rowCopier(backendOf(args)) ?? null) : null),
      );
      return mem.out;
    },
  }),
};
