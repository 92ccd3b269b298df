import {
  backend_util,
  MaxPool3DGrad,
  type KernelConfig,
  type MaxPool3DGradAttrs,
} from '@tensorflow/tfjs-core';
import { backendOf, inputOf, runOriginal, type FastKernel, type KernelArgs } from './kernel-context';
import { maxPool3dGradLoops, pool3dParams } from './pool-3d-loops';
import { allocateAndView } from './tensor-memory';

type Shape5 = [number, number, number, number, number];

/** MaxPool3DGrad (dy, input, output) -> dx: each dy to its window's maximum (ties as tfjs's cpu kernel). */
export const maxPool3dGradKernel: FastKernel = {
  kernelName: MaxPool3DGrad,
  make: (ctx): KernelConfig => ({
    kernelName: MaxPool3DGrad,
    backendName: ctx.backendName,
    kernelFunc: (args: KernelArgs) => {
      const dy = inputOf(args, MaxPool3DGrad, 'dy');
      const input = inputOf(args, MaxPool3DGrad, 'input');
      const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as MaxPool3DGradAttrs;
      const info = backend_util.computePool3DInfo(
        input.shape as Shape5,
        filterSize,
        strides,
        1,
        pad,
        dimRoundingMode,
      );
      const mem = allocateAndView(ctx.backendName, backendOf(args), [dy, input], input.shape);
      if (!mem) return runOriginal(ctx, args);
      if (ctx.native) {
        ctx.native.maxPool3dBackward(mem.inputs[0], mem.inputs[1], pool3dParams(info), mem.outValues);
      } else {
        mem.outValues.fill(0);
        maxPool3dGradLoops(info, mem.inputs[0], mem.inputs[1], mem.outValues);
      }
      return mem.out;
    },
  }),
};
