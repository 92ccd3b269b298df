import {
  backend_util,
  Conv3DBackpropFilterV2,
  type Conv3DBackpropFilterV2Attrs,
  type KernelConfig,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { conv3dBackpropFilterLoops } from './conv3d-transpose-loops';
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

function convInfo(args: KernelArgs, x: TensorInfo): backend_util.Conv3DInfo {
  const { strides, pad, filterShape } = args.attrs as unknown as Conv3DBackpropFilterV2Attrs;
  return backend_util.computeConv3DInfo(x.shape as Shape5, filterShape as Shape5, strides, 1, pad);
}

/**
 * Without the addon on wasm: tfjs-wasm 4.22's own kernel is wrong for strides > 1 (the U-Net's
 * transposed convolutions), so plain loops replace it there.
 */
function portable(ctx: KernelContext, args: KernelArgs): TensorInfo | TensorInfo[] {
  const x = inputOf(args, Conv3DBackpropFilterV2, 'x');
  const dy = inputOf(args, Conv3DBackpropFilterV2, 'dy');
  const info = convInfo(args, x);
  const mem = allocateAndView(ctx.backendName, backendOf(args), [x, dy], info.filterShape);
  if (!mem) return runOriginal(ctx, args);
  conv3dBackpropFilterLoops(info, mem.inputs[0], mem.inputs[1], mem.outValues);
  return mem.out;
}

/**
 * Conv3DBackpropFilterV2 (x, dy) -> dFilter [kD, kH, kW, inC, outC]: the gradient of Conv3D for its filter.
 * On oneDNN where the addon is built, else on the WebAssembly SIMD module, else (wasm only) plain loops.
 */
export const conv3dBackpropFilterKernel: FastKernel = {
  kernelName: Conv3DBackpropFilterV2,
  make: (ctx): KernelConfig | null => {
    const { native, simd } = ctx;
    if (!native && !simd) {
      return ctx.backendName === 'wasm'
        ? {
            kernelName: Conv3DBackpropFilterV2,
            backendName: ctx.backendName,
            kernelFunc: (args: KernelArgs) => portable(ctx, args),
          }
        : null;
    }
    return {
      kernelName: Conv3DBackpropFilterV2,
      backendName: ctx.backendName,
      kernelFunc: (args: KernelArgs) => {
        const x = inputOf(args, Conv3DBackpropFilterV2, 'x');
        const dy = inputOf(args, Conv3DBackpropFilterV2, 'dy');
        const info = convInfo(args, x);
        if (native) return nativeConv3d(ctx, native, args, 2, info, x, dy, info.filterShape);
        // The wasm backend's own kernel is wrong for strides > 1 (see portable): its fallback is the loops.
        const fallback = ctx.backendName === 'wasm' ? () => portable(ctx, args) : undefined;
        return simd
          ? simdConv3d(ctx, simd, args, 2, info, x, dy, info.filterShape, fallback)
          : runOriginal(ctx, args);
      },
    };
  },
};
