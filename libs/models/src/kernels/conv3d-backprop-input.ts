import {
  backend_util,
  Conv3DBackpropInputV2,
  type Conv3DBackpropInputV2Attrs,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { conv3dBackpropInputLoops } from './conv3d-transpose-loops';
import {
  backendOf,
  inputOf,
  runOriginal,
  type FastKernel,
  type KernelArgs,
  type KernelContext,
} from './kernel-context';
import { nativeConv3d } from './native-conv3d';
import { simdConv3d } from './simd-conv3d';
import { allocateAndView } from './tensor-memory';

type Shape5 = [number, number, number, number, number];

/**
 * Without the addon on wasm: tfjs-wasm 4.22's own Conv3DBackpropInputV2 returns wrong values for most
 * shapes (conv3d.spec.ts), which would silently break the gradients of every conv and the forward pass of
 * conv3dTranspose. Plain loops are slower than its SIMD code but correct.
 */
function portable(ctx: KernelContext, args: KernelArgs): TensorInfo | TensorInfo[] {
  const dy = inputOf(args, Conv3DBackpropInputV2, 'dy');
  const filter = inputOf(args, Conv3DBackpropInputV2, 'filter');
  const info = infoOf(args, filter);
  const mem = allocateAndView(ctx.backendName, backendOf(args), [dy, filter], info.inShape);
  if (!mem) return runOriginal(ctx, args);
  mem.outValues.fill(0);
  conv3dBackpropInputLoops(info, mem.inputs[0], mem.inputs[1], mem.outValues);
  return mem.out;
}

function infoOf(args: KernelArgs, filter: TensorInfo): backend_util.Conv3DInfo {
  const { strides, pad, inputShape } = args.attrs as unknown as Conv3DBackpropInputV2Attrs;
  return backend_util.computeConv3DInfo(inputShape as Shape5, filter.shape as Shape5, strides, 1, pad);
}

/**
 * Conv3DBackpropInputV2 (dy, filter) -> dx: the gradient of Conv3D for its input, and the forward pass of
 * conv3dTranspose (the U-Net decoder's upsampling). tfjs's op never passes dilations here (always 1).
 * On oneDNN where the addon is built, else on the WebAssembly SIMD module, else (wasm only) plain loops.
 */
export const conv3dBackpropInputKernel: FastKernel = {
  kernelName: Conv3DBackpropInputV2,
  make: (ctx): KernelConfig | null => {
    const { native, simd } = ctx;
    if (!native && !simd) {
      return ctx.backendName === 'wasm'
        ? {
            kernelName: Conv3DBackpropInputV2,
            backendName: ctx.backendName,
            kernelFunc: (args: KernelArgs) => portable(ctx, args),
          }
        : null;
    }
    return {
      kernelName: Conv3DBackpropInputV2,
      backendName: ctx.backendName,
      kernelFunc: (args: KernelArgs) => {
        const dy = inputOf(args, Conv3DBackpropInputV2, 'dy');
        const filter = inputOf(args, Conv3DBackpropInputV2, 'filter');
        const info = infoOf(args, filter);
        if (native) return nativeConv3d(ctx, native, args, 1, info, dy, filter, info.inShape);
        // The wasm backend's own kernel is wrong (see portable): its fallback is the plain loops.
        const fallback = ctx.backendName === 'wasm' ? () => portable(ctx, args) : undefined;
        return simd
          ? simdConv3d(ctx, simd, args, 1, info, dy, filter, info.inShape, fallback)
          : runOriginal(ctx, args);
      },
    };
  },
};
