import { backend_util, Conv3D, type Conv3DAttrs, type KernelConfig } from '@tensorflow/tfjs-core';
import { inputOf, runOriginal, type FastKernel, type KernelArgs } from './kernel-context';
import { nativeConv3d } from './native-conv3d';
import { simdConv3d } from './simd-conv3d';

type Shape5 = [number, number, number, number, number];

/**
 * Conv3D (x: NDHWC, filter: [kD, kH, kW, inC, outC]) -> y, on oneDNN through the addon where it is built,
 * else on the WebAssembly SIMD module.
 */
export const conv3dKernel: FastKernel = {
  kernelName: Conv3D,
  make: (ctx): KernelConfig | null => {
    const { native, simd } = ctx;
    if (!native && !simd) return null;
    return {
      kernelName: Conv3D,
      backendName: ctx.backendName,
      kernelFunc: (args: KernelArgs) => {
        const x = inputOf(args, Conv3D, 'x');
        const filter = inputOf(args, Conv3D, 'filter');
        const { strides, pad, dilations, dataFormat } = args.attrs as unknown as Conv3DAttrs;
        if (dataFormat !== 'NDHWC') return runOriginal(ctx, args);
        const info = backend_util.computeConv3DInfo(
          x.shape as Shape5,
          filter.shape as Shape5,
          strides,
          dilations,
          pad,
        );
        return native
          ? nativeConv3d(ctx, native, args, 0, info, x, filter, info.outShape)
          : simd
            ? simdConv3d(ctx, simd, args, 0, info, x, filter, info.outShape)
            : runOriginal(ctx, args);
      },
    };
  },
};
