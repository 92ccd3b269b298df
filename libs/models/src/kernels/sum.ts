import { Sum, type Mean, type KernelConfig, type SumAttrs } from '@tensorflow/tfjs-core';
import { backendOf, inputOf, runOriginal, type FastKernel, type KernelArgs } from './kernel-context';
import { axisBlock, sumBlock } from './reduce-axes';
import { allocateAndView } from './tensor-memory';

/**
 * Sum of float32 over a contiguous block of axes in one pass. The backends transpose the reduced axes
 * innermost first; for 5-D activations (bias gradients, instance-norm statistics) that transpose
 * dominated a training step on wasm.
 */
export const sumKernel: FastKernel = blockReductionKernel(Sum, () => 1);

/**
 * A reduction over a contiguous block of axes in one pass, scaled per output (1 for Sum, 1/n for Mean).
 * Falls back to the backend's original kernel for other axis layouts or where memory cannot be viewed.
 */
export function blockReductionKernel(
  kernelName: typeof Sum | typeof Mean,
  scaleOf: (reduce: number) => number,
): FastKernel {
  return {
    kernelName,
    make: (ctx): KernelConfig => ({
      kernelName,
      backendName: ctx.backendName,
      kernelFunc: (args: KernelArgs) => {
        const x = inputOf(args, kernelName, 'x');
        const { axis, keepDims } = args.attrs as unknown as SumAttrs;
        const block = axisBlock(x, axis, keepDims);
        if (!block) return runOriginal(ctx, args);
        const mem = allocateAndView(ctx.backendName, backendOf(args), [x], block.outShape);
        if (!mem) return runOriginal(ctx, args);
        const scale = scaleOf(block.reduce);
        if (ctx.native) {
          ctx.native.sumBlock(
            mem.inputs[0],
            Int32Array.of(block.outer, block.reduce, block.inner),
            scale,
            mem.outValues,
          );
        } else if (!(
          ctx.backendName === 'wasm' &&
          ctx.simd?.sumBlock(backendOf(args), mem.inputs[0], block, scale, mem.outValues)
        )) {
          sumBlock(mem.inputs[0], block, scale, mem.outValues);
        }
        return mem.out;
      },
    }),
  };
}
