import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { optionalRequire } from './optional-require';

type RegisterFastKernels = (backendName: string, log?: (message: string) => void) => Promise<unknown>;
type RestoreOriginalKernels = (backendName: string) => unknown;

/**
 * Optional fast kernels from libs/models/src/kernels (owned by the performance work), loaded only if this
 * build has them. Their absence or any failure only means the stock tfjs kernels run.
 */
function loadFastKernels(): {
  register?: RegisterFastKernels;
  restore?: RestoreOriginalKernels;
  note?: string;
} {
  const dir = join(__dirname, '..', 'kernels');
  if (!['index.ts', 'index.js'].some((f) => existsSync(join(dir, f))))
    return { note: 'no fast kernels in this build' };
  const loaded = optionalRequire(dir);
  if ('reason' in loaded) return { note: `fast kernels skipped: ${loaded.reason}` };
  const mod = loaded.module as { registerFastKernels?: unknown; restoreOriginalKernels?: unknown };
  return {
    register:
      typeof mod.registerFastKernels === 'function'
        ? (mod.registerFastKernels as RegisterFastKernels)
        : undefined,
    restore:
      typeof mod.restoreOriginalKernels === 'function'
        ? (mod.restoreOriginalKernels as RestoreOriginalKernels)
        : undefined,
  };
}

/** Registers the fast kernels for `backendName`; returns the kernels replaced and what was said on the way. */
export async function registerOptionalFastKernels(
  backendName: string,
): Promise<{ kernels: string[]; notes: string[] }> {
  const notes: string[] = [];
  const { register, note } = loadFastKernels();
  if (note) notes.push(note);
  if (!register) return { kernels: [], notes };
  try {
    const kernels: unknown = await register(backendName, (message) => notes.push(message));
    return {
      kernels: Array.isArray(kernels) ? kernels.filter((k): k is string => typeof k === 'string') : [],
      notes,
    };
  } catch (error) {
    notes.push(`fast kernels failed: ${error instanceof Error ? error.message : String(error)}`);
    return { kernels: [], notes };
  }
}

/** Puts tfjs's own kernels back on `backendName` if fast ones were registered earlier in this process. */
export function restoreStockKernels(backendName: string): void {
  const { restore } = loadFastKernels();
  try {
    restore?.(backendName);
  } catch {
    // Nothing was replaced, or restoring failed: either way the stock kernels are what tfjs registered.
  }
}
