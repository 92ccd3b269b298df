import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { conv3dKernel } from './conv3d';
import { conv3dBackpropFilterKernel } from './conv3d-backprop-filter';
import { conv3dBackpropInputKernel } from './conv3d-backprop-input';
import { concatKernel } from './concat';
import type { FastKernel } from './kernel-context';
import { meanKernel } from './mean';
import { loadNativeKernels } from './native-addon';
import { sliceKernel } from './slice';
import { splitVKernel } from './split-v';
import { sumKernel } from './sum';
import { isPortableBackend } from './tensor-memory';

/**
 * Every fast kernel, in one list. The convolutions need the oneDNN addon; the others are portable
 * TypeScript over the backends' typed arrays and replace what profiling a bench-unet3d step on wasm showed
 * slow (SplitV and Sum each took longer than all convolutions together).
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
];

/** The backend's own kernels we replaced, per `${backend}/${kernel}`, so they can be called and restored. */
const originals = new Map<string, KernelConfig>();

export type KernelLog = (message: string) => void;

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
): Promise<string[]> {
  try {
    if (!isPortableBackend(backendName)) {
      log(`no fast kernels for backend '${backendName}' (only cpu and wasm need them)`);
      return [];
    }
    const { kernels: native, reason } = loadNativeKernels();
    if (!native) log(`native convolutions unavailable: ${reason}`);
    const registered: string[] = [];
    for (const fast of FAST_KERNELS) {
      const key = `${backendName}/${fast.kernelName}`;
      const original = originals.get(key) ?? getKernel(fast.kernelName, backendName);
      if (!original) {
        log(`backend '${backendName}' has no ${fast.kernelName} kernel to replace; kept as is`);
        continue;
      }
      const config = fast.make({ backendName, native, original, log });
      if (!config) continue;
      originals.set(key, original);
      unregisterKernel(fast.kernelName, backendName);
      registerKernel(config);
      registered.push(fast.kernelName);
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
  for (const [key, config] of originals) {
    if (config.backendName !== backendName) continue;
    unregisterKernel(config.kernelName, backendName);
    registerKernel(config);
    originals.delete(key);
    restored.push(config.kernelName);
  }
  return restored;
}
