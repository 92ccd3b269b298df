import { backend_util, SplitV, util, type KernelConfig, type SplitVAttrs } from '@tensorflow/tfjs-core';
import { interleaveRows, sizeOf } from './copy-blocks';
import { backendOf, inputOf, runOriginal, type FastKernel, type KernelArgs } from './kernel-context';
import { allocateOutputs } from './tensor-memory';

/**
 * SplitV (the gradient of a concat, e.g. the U-Net's channel-wise skip concatenation): row copies over
 * the [rows, rowLength] view of the input, in one pass per output, instead of one 5-D slice each.
 */
export const splitVKernel: FastKernel = {
  kernelName: SplitV,
  make: (ctx): KernelConfig => ({
    kernelName: SplitV,
    backendName: ctx.backendName,
    kernelFunc: (args: KernelArgs) => {
      const x = inputOf(args, SplitV, 'x');
      const { numOrSizeSplits, axis } = args.attrs as unknown as SplitVAttrs;
      const $axis = util.parseAxisParam(axis, x.shape)[0];
      const sizes = backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
      const shapes = sizes.map((s) => x.shape.map((d, i) => (i === $axis ? s : d)));
      const mem = allocateOutputs(ctx.backendName, backendOf(args), [x], shapes);
      if (!mem) return runOriginal(ctx, args);
      const inner = sizeOf(x.shape, $axis + 1);
      interleaveRows(
        mem.inputs[0],
        mem.outValues,
        sizes.map((s) => s * inner),
        sizeOf(x.shape, 0, $axis),
        false,
        ctx.native ?? (ctx.backendName === 'wasm' ? (ctx.simd?.rowCopier(backendOf(args)) ?? null) : null),
      );
      return mem.outs;
    },
  }),
};
