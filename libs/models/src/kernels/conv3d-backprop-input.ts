import {
  backend_util,
  Conv3DBackpropInputV2,
  type Conv3DBackpropInputV2Attrs,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { inputOf, type FastKernel, type KernelArgs } from './kernel-context';
import { nativeConv3d } from './native-conv3d';

type Shape5 = [number, number, number, number, number];

/**
 * Conv3DBackpropInputV2 (dy, filter) -> dx: the gradient of Conv3D for its input, and the forward pass of
 * conv3dTranspose (the U-Net decoder's upsampling). tfjs's op never passes dilations here (always 1).
 */
export const conv3dBackpropInputKernel: FastKernel = {
  kernelName: Conv3DBackpropInputV2,
  make: (ctx): KernelConfig | null => {
    const native = ctx.native;
    if (!native) return null;
    return {
      kernelName: Conv3DBackpropInputV2,
      backendName: ctx.backendName,
      kernelFunc: (args: KernelArgs) => {
        const dy = inputOf(args, Conv3DBackpropInputV2, 'dy');
        const filter = inputOf(args, Conv3DBackpropInputV2, 'filter');
        const { strides, pad, inputShape } = args.attrs as unknown as Conv3DBackpropInputV2Attrs;
        const info = backend_util.computeConv3DInfo(
          inputShape as Shape5,
          filter.shape as Shape5,
          strides,
          1,
          pad,
        );
        return nativeConv3d(ctx, native, args, 1, info, dy, filter, info.inShape);
      },
    };
  },
};
