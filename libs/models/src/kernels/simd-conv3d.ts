import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { conv3dParams } from './conv3d-params';
import { backendOf, runOriginal, type KernelArgs, type KernelContext } from './kernel-context';
import type { WasmSimdKernels } from './wasm-simd-kernels';
import type { ConvKind } from './wasm-simd-module';

/**
 * Runs one of the WebAssembly SIMD convolutions on (a, b) into a new tensor of `outShape`, or `fallback`
 * (the replaced kernel by default) when an input is not float32 or the module does not handle the shape.
 */
export function simdConv3d(
  ctx: KernelContext,
  simd: WasmSimdKernels,
  args: KernelArgs,
  kind: ConvKind,
  info: backend_util.Conv3DInfo,
  a: TensorInfo,
  b: TensorInfo,
  outShape: number[],
  fallback: () => TensorInfo | TensorInfo[] = () => runOriginal(ctx, args),
): TensorInfo | TensorInfo[] {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return fallback();
  const out = simd.conv3d(ctx.backendName, backendOf(args), kind, conv3dParams(info), a, b, outShape);
  return out ?? fallback();
}
