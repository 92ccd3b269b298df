import { Slice, slice_util, type KernelConfig, type SliceAttrs } from '@tensorflow/tfjs-core';
import { sliceInto } from './copy-blocks';
import { backendOf, inputOf, runOriginal, type FastKernel, type KernelArgs } from './kernel-context';
import { allocateAndView } from './tensor-memory';

/**
 * Slice for float32 tensors of rank >= 4: contiguous-run copies instead of the wasm backend's generic
 * per-element path for rank > 4. Lower ranks keep the backend's own kernel (already fast, and on cpu it
 * can share memory for contiguous slices).
 */
export const sliceKernel: FastKernel = {
  kernelName: Slice,
  make: (ctx): KernelConfig => ({
    kernelName: Slice,
    backendName: ctx.backendName,
    kernelFunc: (args: KernelArgs) => {
      const x = inputOf(args, Slice, 'x');
      if (x.shape.length < 4) return runOriginal(ctx, args);
      const { begin, size } = args.attrs as unknown as SliceAttrs;
      const [$begin, $size] = slice_util.parseSliceParams(x, begin, size);
      const mem = allocateAndView(ctx.backendName, backendOf(args), [x], $size);
      if (!mem) return runOriginal(ctx, args);
      sliceInto(mem.inputs[0], x.shape, $begin, $size, mem.outValues);
      return mem.out;
    },
  }),
};
