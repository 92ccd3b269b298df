import { Mean, type KernelConfig, type MeanAttrs } from '@tensorflow/tfjs-core';
import { backendOf, inputOf, runOriginal, type FastKernel, type KernelArgs } from './kernel-context';
import { axisBlock, sumBlock } from './reduce-axes';
import { allocateAndView } from './tensor-memory';

/** Mean of float32 over a contiguous block of axes in one pass (instance-norm statistics); see sum.ts. */
export const meanKernel: FastKernel = {
  kernelName: Mean,
  make: (ctx): KernelConfig => ({
    kernelName: Mean,
    backendName: ctx.backendName,
    kernelFunc: (args: KernelArgs) => {
      const x = inputOf(args, Mean, 'x');
      const { axis, keepDims } = args.attrs as unknown as MeanAttrs;
      const block = axisBlock(x, axis, keepDims);
      if (!block) return runOriginal(ctx, args);
      const mem = allocateAndView(ctx.backendName, backendOf(args), [x], block.outShape);
      if (!mem) return runOriginal(ctx, args);
      if (ctx.native) {
        ctx.native.sumBlock(
          mem.inputs[0],
          Int32Array.of(block.outer, block.reduce, block.inner),
          1 / block.reduce,
          mem.outValues,
        );
      } else {
        sumBlock(mem.inputs[0], block, 1 / block.reduce, mem.outValues);
      }
      return mem.out;
    },
  }),
};
