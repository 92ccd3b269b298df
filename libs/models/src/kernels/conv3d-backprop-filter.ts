import {
  backend_util,
  Conv3DBackpropFilterV2,
  type Conv3DBackpropFilterV2Attrs,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { inputOf, type FastKernel, type KernelArgs } from './kernel-context';
import { nativeConv3d } from './native-conv3d';

type Shape5 = [number, number, number, number, number];

/** Conv3DBackpropFilterV2 (x, dy) -> dFilter [kD, kH, kW, inC, outC]: the gradient of Conv3D for its filter. */
export const conv3dBackpropFilterKernel: FastKernel = {
  kernelName: Conv3DBackpropFilterV2,
  make: (ctx): KernelConfig | null => {
    const native = ctx.native;
    if (!native) return null;
    return {
      kernelName: Conv3DBackpropFilterV2,
      backendName: ctx.backendName,
      kernelFunc: (args: KernelArgs) => {
        const x = inputOf(args, Conv3DBackpropFilterV2, 'x');
        const dy = inputOf(args, Conv3DBackpropFilterV2, 'dy');
        const { strides, pad, filterShape } = args.attrs as unknown as Conv3DBackpropFilterV2Attrs;
        const info = backend_util.computeConv3DInfo(
          x.shape as Shape5,
          filterShape as Shape5,
          strides,
          1,
          pad,
        );
        return nativeConv3d(ctx, native, args, 2, info, x, dy, filterShape);
      },
    };
  },
};
