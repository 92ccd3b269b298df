import {
  getGradient,
  getKernel,
  registerGradient,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { addKernel } from './add';
import { conv3dKernel } from './conv3d';
import { conv3dBackpropFilterKernel } from './conv3d-backprop-filter';
import { conv3dBackpropInputKernel } from './conv3d-backprop-input';
import { identityKernel } from './identity';
import { concatKernel } from './concat';
import type { FastKernel } from './kernel-context';
import { maxPool3dKernel } from './max-pool-3d';
import { maxPool3dGradKernel } from './max-pool-3d-grad';
import { meanKernel } from './mean';
import { multiplyKernel } from './multiply';
import { loadNativeKernels, type NativeKernels } from './native-addon';
import { sliceKernel } from './slice';
import { splitVKernel } from './split-v';
import { sumKernel } from './sum';
import { isPortableBackend, type PortableBackendName } from './tensor-memory';
import { loadWasmSimdKernels, type WasmSimdKernels } from './wasm-simd-kernels';
import { adamKernel } from './fedseg-adam';
import { diceCeKernel } from './fedseg-dice-ce';
import { reluGradConfig, reluGradKernel } from './relu-grad';
import { instanceNormGradKernel, instanceNormKernel } from './fedseg-instance-norm';

/**
 * Every replacement kernel, in one list, chosen by profiling a bench-unet3d step (npm run bench --
 * train-profile): on wasm, SplitV and Sum each took longer than all convolutions together. With the addon
 * the convolutions run on oneDNN and the others in native loops; without it the convolutions run on the
 * WebAssembly SIMD module (libs/models/wasm) and the others as TypeScript over the backends' typed arrays.
 * Without both, on wasm the conv backprops become plain loops, because tfjs-wasm 4.22's own return wrong
 * values (conv3d.spec.ts).
 */
const FAST_KERNELS: readonly FastKernel[] = [
  conv3dKernel,
  conv3dBackpropFilterKernel,
  conv3dBackpropInputKernel,
  sliceKernel,
  splitVKernel,
  concatKernel,
  sumKernel,
  meanKernel,
  maxPool3dKernel,
  maxPool3dGradKernel,
  addKernel,
  multiplyKernel,
  identityKernel,
];

/** Kernels tfjs does not have at all (fused ops of ours), registered beside the replacements. */
const NEW_KERNELS: readonly ((
  backendName: PortableBackendName,
  native: NativeKernels | null,
  simd: WasmSimdKernels | null,
) => KernelConfig)[] = [instanceNormKernel, instanceNormGradKernel, adamKernel, diceCeKernel, reluGradKernel];

/** The backend's own kernels we replaced, per `${backend}/${kernel}`, so they can be called and restored. */
const originals = new Map<string, KernelConfig>();

export type KernelLog = (message: string) => void;

export interface FastKernelOptions {
  /**
   * false: register only the portable kernels, as on a machine where the addon did not build. Default: the
   * addon when it loads, unless the environment variable FEDSEG_NATIVE=0.
   */
  native?: boolean;
  /**
   * false: no WebAssembly SIMD convolutions (they otherwise run wherever the addon does not). Default: on,
   * unless the environment variable FEDSEG_WASM_SIMD=0.
   */
  simd?: boolean;
  /**
   * Threads for the SIMD convolutions, the calling one included (1-4; large convolutions only; worker_threads
   * over one shared WebAssembly memory). Default: the environment variable FEDSEG_WASM_THREADS, else 1:
   * on the shared 2-core machine the benchmarks run on, 2 threads measured slower than 1 (other work held
   * both cores), so more threads are for machines with idle cores, where an operator turns them on.
   */
  threads?: number;
}

function defaultThreads(): number {
  const fromEnv = Number(process.env['FEDSEG_WASM_THREADS']);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 1;
}

/** Which convolutions a backend got from the last registerFastKernels, and why. */
export interface KernelChoice {
  backend: PortableBackendName;
  convolutions: 'oneDNN' | 'wasm-simd' | 'typescript-loops' | 'tfjs';
  /** One line for people: what runs the convolutions and why the faster choices did not. */
  description: string;
}

const choices = new Map<string, KernelChoice>();

/** The convolution choice made for `backendName` by registerFastKernels, or null before (or after restoring). */
export function kernelChoice(backendName: string): KernelChoice | null {
  return choices.get(backendName) ?? null;
}

function describeChoice(
  backend: PortableBackendName,
  nativeNote: string,
  simd: WasmSimdKernels | null,
  simdNote: string,
  convolutions: KernelChoice['convolutions'],
): KernelChoice {
  const threads = simd?.threads ?? 1;
  const threadNote = threads === 1 && simd?.threadNote ? ` (${simd.threadNote})` : '';
  const what: Record<KernelChoice['convolutions'], string> = {
    oneDNN: 'Conv3D and its backprops on oneDNN (@fedseg/native-kernels)',
    'wasm-simd': `Conv3D and its backprops on WebAssembly SIMD128 (libs/models/wasm, ${threads} thread${threads > 1 ? 's' : threadNote})`,
    'typescript-loops': "Conv3D on tfjs-wasm's own kernel, its backprops in TypeScript loops (slow)",
    tfjs: "Conv3D and its backprops on tfjs's cpu kernels (slow)",
  };
  const why = [
    nativeNote && `oneDNN not used: ${nativeNote}`,
    convolutions !== 'oneDNN' && simdNote && `SIMD not used: ${simdNote}`,
  ].filter((s): s is string => typeof s === 'string' && s !== '');
  return {
    backend,
    convolutions,
    description: `${backend}: ${what[convolutions]}${why.length ? `; ${why.join('; ')}` : ''}`,
  };
}

const defaultLog: KernelLog = (message) => console.warn(`[fedseg kernels] ${message}`);

/**
 * Replaces the slow tfjs kernels of `backendName` ('cpu' or 'wasm') with fast ones and returns the kernel
 * names replaced. Call it once the backend is registered (before or after `tf.setBackend`). Never throws:
 * it logs why it skipped a backend or a kernel, and the backend keeps its own kernels there. Calling it
 * again is harmless.
 */
export async function registerFastKernels(
  backendName: string,
  log: KernelLog = defaultLog,
  options: FastKernelOptions = {},
): Promise<string[]> {
  try {
    if (!isPortableBackend(backendName)) {
      log(`no fast kernels for backend '${backendName}' (only cpu and wasm need them)`);
      return [];
    }
    const { kernels: loaded, reason } = loadNativeKernels();
    const nativeOff =
      options.native === false || (options.native === undefined && process.env['FEDSEG_NATIVE'] === '0');
    const native = nativeOff ? null : loaded;
    if (!loaded) log(`native convolutions unavailable: ${reason}`);
    const nativeNote = native ? '' : nativeOff ? 'turned off (FEDSEG_NATIVE=0 or native: false)' : reason;
    const simdOff =
      options.simd === false || (options.simd === undefined && process.env['FEDSEG_WASM_SIMD'] === '0');
    const simdLoad = native || simdOff ? null : await loadWasmSimdKernels();
    const simd = simdLoad?.kernels ?? null;
    const simdNote = simdOff ? 'turned off (FEDSEG_WASM_SIMD=0 or simd: false)' : (simdLoad?.reason ?? '');
    if (simdLoad && !simd) log(`WebAssembly SIMD convolutions unavailable: ${simdLoad.reason}`);
    if (simd) simd.setThreads(options.threads ?? defaultThreads());
    const choice = describeChoice(
      backendName,
      nativeNote,
      simd,
      simdNote,
      native ? 'oneDNN' : simd ? 'wasm-simd' : backendName === 'wasm' ? 'typescript-loops' : 'tfjs',
    );
    choices.set(backendName, choice);
    log(`convolutions: ${choice.description}`);
    const registered: string[] = [];
    for (const fast of FAST_KERNELS) {
      const key = `${backendName}/${fast.kernelName}`;
      const original = originals.get(key) ?? getKernel(fast.kernelName, backendName);
      if (!original) {
        log(`backend '${backendName}' has no ${fast.kernelName} kernel to replace; kept as is`);
        continue;
      }
      const config = fast.make({ backendName, native, simd, original, log });
      if (!config) continue;
      originals.set(key, original);
      unregisterKernel(fast.kernelName, backendName);
      registerKernel(config);
      registered.push(fast.kernelName);
    }
    // Relu's gradient through FedsegReluGrad where registered (tfjs-core's formula elsewhere). Set here, at
    // run time, so it replaces the one tfjs-core registered at import whatever the import order was.
    if (getGradient(reluGradConfig.kernelName) !== reluGradConfig) registerGradient(reluGradConfig);
    for (const make of NEW_KERNELS) {
      const config = make(backendName, native, simd);
      if (getKernel(config.kernelName, backendName)) unregisterKernel(config.kernelName, backendName);
      registerKernel(config);
      registered.push(config.kernelName);
    }
    return registered;
  } catch (err) {
    log(`fast kernels skipped for '${backendName}': ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
}

/** Puts the backend's own kernels back (tests compare against them; benchmarks measure "before"). */
export function restoreOriginalKernels(backendName: string): string[] {
  const restored: string[] = [];
  choices.delete(backendName);
  for (const [key, config] of originals) {
    if (config.backendName !== backendName) continue;
    unregisterKernel(config.kernelName, backendName);
    registerKernel(config);
    originals.delete(key);
    restored.push(config.kernelName);
  }
  for (const make of NEW_KERNELS) {
    const { kernelName } = make('cpu', null, null);
    if (getKernel(kernelName, backendName)) unregisterKernel(kernelName, backendName);
  }
  return restored;
}
