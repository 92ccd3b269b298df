import { createRequire } from 'node:module';

/**
 * Loads an optional package through CommonJS `require` (the one module system every tfjs package here uses,
 * so no second tfjs-core copy appears). Returns the module, or the reason it could not be loaded.
 */
const load = createRequire(__filename);

export function optionalRequire(specifier: string): { module: unknown } | { reason: string } {
  try {
    return { module: load(specifier) as unknown };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' && message.includes(specifier))
      return { reason: `${specifier} is not installed` };
    return { reason: `${specifier} failed to load: ${message}` };
  }
}
