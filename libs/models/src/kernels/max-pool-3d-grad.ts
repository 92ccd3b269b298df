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

/**
 * MaxPool3DGrad (dy, input, output) -> dx: each dy to its window's maximum (ties as tfjs's cpu kernel). In the
 * addon when loaded, else on wasm in the SIMD module, else plain loops.
 */
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
      const [dyValues, xValues] = mem.inputs;
      if (ctx.native) {
        ctx.native.maxPool3dBackward(dyValues, xValues, pool3dParams(info), mem.outValues);
        return mem.out;
      }
      const views = { dy: dyValues, x: xValues, dx: mem.outValues };
      if (ctx.backendName === 'wasm' && ctx.simd?.maxPool3dGrad(backendOf(args), views, pool3dParams(info)))
        return mem.out;
      mem.outValues.fill(0);
      maxPool3dGradLoops(info, dyValues, xValues, mem.outValues);
      return mem.out;
    },
  }),
};
