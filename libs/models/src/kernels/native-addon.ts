import { createRequire } from 'node:module';
import type { NativeKernels } from '@fedseg/native-kernels';

/**
 * The optional oneDNN addon (libs/native-kernels, typed by its index.d.ts). It is loaded at run time, not
 * imported: `npm install` may have skipped building it, and then the portable kernels are used instead.
 */
export type { NativeConvPlan, NativeKernels } from '@fedseg/native-kernels';

export interface NativeLoad {
  kernels: NativeKernels | null;
  /** Why `kernels` is null; empty when loaded. */
  reason: string;
}

let cached: NativeLoad | undefined;

function isNativeKernels(value: unknown): value is NativeKernels {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  // An addon built from older sources lacks some functions: treat it as absent rather than half-present.
  return [
    'conv3d',
    'info',
    'instanceNormForward',
    'instanceNormBackward',
    'sumBlock',
    'maxPool3dForward',
    'maxPool3dBackward',
    'copyRows',
    'broadcastBinary',
  ].every((name) => typeof candidate[name] === 'function');
}

/** Loads the addon once per process; never throws. */
export function loadNativeKernels(): NativeLoad {
  if (cached) return cached;
  try {
    // oneDNN runs on OpenMP (libgomp), whose idle threads spin by default. On a machine shared with other
    // work (2 cores, load 6) spinning threads stall every barrier: the kernel training spec took 7.8 s on
    // cpu with spinning and 1.4 s with passive waiting. libgomp reads this once, when it loads.
    process.env['OMP_WAIT_POLICY'] ??= 'passive';
    const load = createRequire(__filename);
    const mod: unknown = load('@fedseg/native-kernels');
    const record = (typeof mod === 'object' && mod !== null ? mod : {}) as Record<string, unknown>;
    const binding = record['binding'];
    if (isNativeKernels(binding)) {
      binding.info();
      cached = { kernels: binding, reason: '' };
    } else {
      const reason =
        typeof record['reason'] === 'string' && record['reason'] !== ''
          ? record['reason']
          : 'its exports do not match these kernels (rebuild it: npm rebuild @fedseg/native-kernels)';
      cached = { kernels: null, reason: `@fedseg/native-kernels: ${reason}` };
    }
  } catch (err) {
    cached = {
      kernels: null,
      reason: `@fedseg/native-kernels unavailable: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  return cached;
}
