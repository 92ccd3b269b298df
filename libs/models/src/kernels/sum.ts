import { Sum, type KernelConfig, type SumAttrs } from '@tensorflow/tfjs-core';
import { backendOf, inputOf, runOriginal, type FastKernel, type KernelArgs } from './kernel-context';
import { axisBlock, sumBlock } from './reduce-axes';
import { allocateAndView } from './tensor-memory';

/**
 * Sum of float32 over a contiguous block of axes in one pass. The backends transpose the reduced axes
 * innermost first; for 5-D activations (bias gradients, instance-norm statistics) that transpose
 * dominated a training step on wasm.
 */
export const sumKernel: FastKernel = {
  kernelName: Sum,
  make: (ctx): KernelConfig => ({
    kernelName: Sum,
    backendName: ctx.backendName,
    kernelFunc: (args: KernelArgs) => {
      const x = inputOf(args, Sum, 'x');
      const { axis, keepDims } = args.attrs as unknown as SumAttrs;
      const block = axisBlock(x, axis, keepDims);
      if (!block) return runOriginal(ctx, args);
      const mem = allocateAndView(ctx.backendName, backendOf(args), [x], block.outShape);
      if (!mem) return runOriginal(ctx, args);
      if (ctx.native) {
        ctx.native.sumBlock(
          mem.inputs[0],
          Int32Array.of(block.outer, block.reduce, block.inner),
          1,
          mem.outValues,
        );
      } else {
        sumBlock(mem.inputs[0], block, 1, mem.outValues);
      }
      return mem.out;
    },
  }),
};
