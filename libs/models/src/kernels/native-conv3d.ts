import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { conv3dParams, NATIVE_CONV_MODE } from './conv3d-params';
import { backendOf, runOriginal, type KernelArgs, type KernelContext } from './kernel-context';
import type { NativeKernels } from './native-addon';
import { allocateAndView, releaseOutput } from './tensor-memory';

/**
 * Runs one of the addon's three convolutions on (a, b) into a new tensor of `outShape`. Falls back to the
 * replaced kernel when an input is not float32 or oneDNN refuses the shape, so a model never fails here
 * that would have run on the backend's own kernel.
 */
export function nativeConv3d(
  ctx: KernelContext,
  native: NativeKernels,
  args: KernelArgs,
  kind: 0 | 1 | 2,
  info: backend_util.Conv3DInfo,
  a: TensorInfo,
  b: TensorInfo,
  outShape: number[],
): TensorInfo | TensorInfo[] {
  const mem = allocateAndView(ctx.backendName, backendOf(args), [a, b], outShape);
  if (!mem) return runOriginal(ctx, args);
  try {
    native.conv3d(kind, conv3dParams(info), NATIVE_CONV_MODE, mem.inputs[0], mem.inputs[1], mem.outValues);
  } catch (err) {
    releaseOutput(backendOf(args), mem.out);
    return runOriginal(ctx, args, err instanceof Error ? err.message : String(err));
  }
  return mem.out;
}
