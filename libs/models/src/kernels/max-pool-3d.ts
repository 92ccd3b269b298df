import { backend_util, MaxPool3D, type KernelConfig, type MaxPool3DAttrs } from '@tensorflow/tfjs-core';
import { backendOf, inputOf, runOriginal, type FastKernel, type KernelArgs } from './kernel-context';
import { maxPool3dLoops, pool3dParams } from './pool-3d-loops';
import { allocateAndView } from './tensor-memory';

type Shape5 = [number, number, number, number, number];

/** MaxPool3D over NDHWC float32, one pass over each window for all channels (in the addon when loaded). */
export const maxPool3dKernel: FastKernel = {
  kernelName: MaxPool3D,
  // Without the addon, wasm's own kernel (SIMD) beats these loops; on cpu the loops win.
  make: (ctx): KernelConfig | null =>
    ctx.native || ctx.backendName === 'cpu'
      ? {
          kernelName: MaxPool3D,
          backendName: ctx.backendName,
          kernelFunc: (args: KernelArgs) => {
            const x = inputOf(args, MaxPool3D, 'x');
            const { filterSize, strides, pad, dimRoundingMode, dataFormat } =
              args.attrs as unknown as MaxPool3DAttrs;
            if (dataFormat !== 'NDHWC') return runOriginal(ctx, args);
            const info = backend_util.computePool3DInfo(
              x.shape as Shape5,
              filterSize,
              strides,
              1,
              pad,
              dimRoundingMode,
              dataFormat,
            );
            const mem = allocateAndView(ctx.backendName, backendOf(args), [x], info.outShape);
            if (!mem) return runOriginal(ctx, args);
            if (ctx.native) ctx.native.maxPool3dForward(mem.inputs[0], pool3dParams(info), mem.outValues);
            else maxPool3dLoops(info, mem.inputs[0], mem.outValues);
            return mem.out;
          },
        }
      : null,
};
