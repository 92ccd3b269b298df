import type { KernelConfig, KernelFunc, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import type { NativeKernels } from './native-addon';
import type { PortableBackendName } from './tensor-memory';
import type { WasmSimdKernels } from './wasm-simd-kernels';

/**
 * What each fast kernel is built from: its backend, the addon and the SIMD module (each when loaded) and the
 * kernel it replaces.
 */
export interface KernelContext {
  backendName: PortableBackendName;
  native: NativeKernels | null;
  /** The WebAssembly SIMD convolutions (libs/models/wasm), when loaded and not turned off. */
  simd: WasmSimdKernels | null;
  original: KernelConfig;
  /** Where to say why a kernel fell back unexpectedly (once per kernel and backend). */
  log: (message: string) => void;
}

/** The arguments tfjs passes to a kernel function. */
export type KernelArgs = Parameters<KernelFunc>[0];

/** The backend a kernel runs on (tfjs types it as `{}`; it is always a KernelBackend). */
export function backendOf(args: KernelArgs): KernelBackend {
  return args.backend as KernelBackend;
}

/** A named input, or an error naming the kernel and the missing input. */
export function inputOf(args: KernelArgs, kernelName: string, name: string): TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new Error(`${kernelName}: input '${name}' is missing`);
  return t;
}

const warned = new Set<string>();

/**
 * Runs the replaced kernel: for inputs the fast kernel does not handle (dtype, layout), or, with `why`,
 * after an unexpected failure, which is logged once per kernel and backend so a slow run can be explained.
 */
export function runOriginal(ctx: KernelContext, args: KernelArgs, why?: string): TensorInfo | TensorInfo[] {
  if (why) {
    const key = `${ctx.backendName}/${ctx.original.kernelName}`;
    if (!warned.has(key)) {
      warned.add(key);
      ctx.log(`${ctx.original.kernelName} on ${ctx.backendName} fell back to the backend's kernel: ${why}`);
    }
  }
  return (ctx.original.kernelFunc as KernelFunc)(args);
}

/** A fast kernel: `make` returns its config when it can run in this context, or null to keep the original. */
export interface FastKernel {
  kernelName: string;
  make(ctx: KernelContext): KernelConfig | null;
}
