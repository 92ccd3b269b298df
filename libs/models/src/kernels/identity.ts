import { Identity, type KernelConfig } from '@tensorflow/tfjs-core';
import { backendOf, inputOf, runOriginal, type FastKernel, type KernelArgs } from './kernel-context';

/**
 * Identity on wasm without a copy: the output shares the input's memory (reference-counted, as the wasm
 * backend's own Reshape and the cpu backend's Identity already do). tfjs-wasm 4.22 copies, and tfjs-core
 * clones every tensor a gradient will need through Identity: 53 copies a bench-unet3d step, 19 of them
 * 7 MB activations. Sharing is safe because no kernel writes into its inputs (tensors are immutable;
 * variable.assign rebinds its data instead of writing it). The cpu backend keeps its own (already shares).
 */
export const identityKernel: FastKernel = {
  kernelName: Identity,
  make: (ctx): KernelConfig | null =>
    ctx.backendName !== 'wasm'
      ? null
      : {
          kernelName: Identity,
          backendName: ctx.backendName,
          kernelFunc: (args: KernelArgs) => {
            const x = inputOf(args, Identity, 'x');
            if (x.dtype === 'string') return runOriginal(ctx, args);
            backendOf(args).incRef(x.dataId);
            return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
          },
        },
};
