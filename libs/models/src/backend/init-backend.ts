import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendInfo } from '@fedseg/protocol';
import { BackendUnavailableError } from '../errors';
import '../register';
import { registerOptionalFastKernels, restoreStockKernels } from './fast-kernels';
import { optionalRequire } from './optional-require';
import { startWebGpuBackend } from './webgpu-backend';

export type BackendPreference = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
type Candidate = 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

/**
 * What each preference tries, in order. Under 'auto', webgpu takes only a hardware adapter: on machines
 * without a GPU, Dawn offers a software one (lavapipe), slower than wasm. An explicit choice still falls
 * back (and says why) rather than leaving a site unable to train.
 */
const ORDER: Record<BackendPreference, Candidate[]> = {
  auto: ['tensorflow', 'webgpu', 'wasm', 'cpu'],
  tensorflow: ['tensorflow', 'wasm', 'cpu'],
  webgpu: ['webgpu', 'wasm', 'cpu'],
  wasm: ['wasm', 'cpu'],
  cpu: ['cpu'],
};

async function activate(name: string): Promise<void> {
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    throw new Error(error instanceof Error ? error.message : String(error));
  }
  if (!ok) throw new Error(`tf.setBackend('${name}') refused to start`);
  await tf.ready();
  // tfjs's cpu backend prints an "install tfjs-node" banner at its first tensor. initBackend already reports
  // which backends were skipped and why (tfjs-node cannot install without internet), so silence the banner.
  if (name === 'cpu') (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}

/** Tries one backend; returns its adapter description, or throws with the reason it cannot run here. */
async function tryCandidate(
  candidate: Candidate,
  preference: BackendPreference,
): Promise<string | undefined> {
  switch (candidate) {
    case 'tensorflow': {
      // Native TensorFlow bindings: optional dependencies that download libtensorflow at install time.
      const reasons: string[] = [];
      for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
        const loaded = optionalRequire(pkg);
        if ('module' in loaded) {
          await activate('tensorflow');
          return pkg === '@tensorflow/tfjs-node-gpu' ? 'libtensorflow (CUDA)' : 'libtensorflow (CPU)';
        }
        reasons.push(loaded.reason);
      }
      throw new Error(reasons.join('; '));
    }
    case 'webgpu':
      return startWebGpuBackend({ allowSoftware: preference === 'webgpu' }, activate);
    case 'wasm':
      // Threaded wasm spawns its workers from a blob URL, which Node cannot load: use the SIMD build.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      await activate('wasm');
      return (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))
        ? 'WebAssembly SIMD, 1 thread'
        : 'WebAssembly, 1 thread';
    case 'cpu':
      await activate('cpu');
      return 'JavaScript';
  }
}

export interface InitBackendOptions {
  /**
   * Register the fast kernels of libs/models/src/kernels when this build has them (default true; the
   * environment variable FEDSEG_FAST_KERNELS=0 turns them off too, e.g. to rule them out when debugging).
   */
  fastKernels?: boolean;
}

let current: { key: string; info: Promise<BackendInfo> } | undefined;

let kernelDescription = 'no backend started yet (initBackend has not run)';

/**
 * Which kernels the backend started by the last initBackend runs, and why: for cpu and wasm, what runs the
 * 3D convolutions (oneDNN addon, WebAssembly SIMD module, or tfjs's own / TypeScript loops) and why each
 * faster choice was not taken, then the other kernels replaced. One line, for the agent's log.
 */
export function describeKernels(): string {
  return kernelDescription;
}

/** The fast-kernel loader's line that names the convolutions' implementation (see kernels/register.ts). */
const CONVOLUTIONS_NOTE = 'convolutions: ';

function describeFastKernels(backend: string, fast: { kernels: string[]; notes: string[] }): string {
  const conv = fast.notes.find((n) => n.startsWith(CONVOLUTIONS_NOTE))?.slice(CONVOLUTIONS_NOTE.length);
  const others = fast.kernels.filter((k) => !k.startsWith('Conv3D'));
  const rest = others.length > 0 ? `; also replaced: ${others.join(', ')}` : '';
  if (conv) return `${conv}${rest}`;
  return `${backend}: tfjs's own kernels${fast.notes.length > 0 ? ` (${fast.notes.join('; ')})` : ''}`;
}

/**
 * Starts the best available tfjs backend for `preference` and says which it is and why earlier choices were
 * skipped (for the agent's log and its hello message). Idempotent: the same preference returns the same
 * result; a different one switches backend. Fast kernels, when this build has them, are registered after.
 */
export function initBackend(
  preference: BackendPreference = 'auto',
  options: InitBackendOptions = {},
): Promise<BackendInfo> {
  const fastKernels = (options.fastKernels ?? true) && process.env['FEDSEG_FAST_KERNELS'] !== '0';
  const key = `${preference}/${fastKernels}`;
  if (current?.key === key) return current.info;
  const order = ORDER[preference];
  if (!order) {
    return Promise.reject(
      new BackendUnavailableError(
        `Unknown backend "${String(preference)}"; use auto, tensorflow, webgpu, wasm or cpu.`,
      ),
    );
  }
  const info = (async (): Promise<BackendInfo> => {
    const skipped: BackendInfo['skipped'] = [];
    for (const candidate of order) {
      try {
        const adapter = await tryCandidate(candidate, preference);
        if (!fastKernels) {
          restoreStockKernels(candidate);
          kernelDescription = `${candidate}: tfjs's own kernels (fast kernels turned off: FEDSEG_FAST_KERNELS=0 or fastKernels: false)`;
          return { name: candidate, adapter, skipped };
        }
        // Fast kernels exist for the portable backends only; asking on others just adds noise to the log.
        const fast =
          candidate === 'wasm' || candidate === 'cpu'
            ? await registerOptionalFastKernels(candidate)
            : { kernels: [], notes: [] };
        // What the fast-kernel loader said (e.g. why its native convolutions are unavailable) goes to the
        // operator alongside the backends skipped.
        for (const note of fast.notes.filter((n) => !n.startsWith(CONVOLUTIONS_NOTE)).slice(0, 4))
          skipped.push({ backend: 'fast-kernels', reason: note.slice(0, 1000) });
        kernelDescription =
          candidate === 'wasm' || candidate === 'cpu'
            ? describeFastKernels(candidate, fast)
            : `${candidate}: the backend's own kernels (the fast kernels are for cpu and wasm)`;
        const described =
          fast.kernels.length > 0
            ? `${adapter ?? ''} + fast kernels: ${fast.kernels.join(', ')}`.trim()
            : adapter;
        return { name: candidate, adapter: described?.slice(0, 256), skipped };
      } catch (error) {
        skipped.push({
          backend: candidate,
          reason: (error instanceof Error ? error.message : String(error)).slice(0, 1000),
        });
      }
    }
    throw new BackendUnavailableError(
      `No tfjs backend could start: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}`,
      { skipped },
    );
  })();
  current = { key, info };
  info.catch(() => {
    if (current?.info === info) current = undefined;
  });
  return info;
}
