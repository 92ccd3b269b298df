import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * Built by `npm run dashboard:build` (also at `npm ci`) into dist/, which the coordinator serves at `/`.
 * `@fedseg/protocol/web` is the protocol's browser-safe entry: the full index pulls node:crypto and tweetnacl.
 * NiiVue (the volume viewer, ~0.9 MB minified) is imported on demand into its own chunk, hence the higher
 * warning limit; the page's own entry stays near 0.4 MB.
 */
export default defineConfig({
  root: here,
  base: '/',
  logLevel: 'warn',
  resolve: {
    alias: { '@fedseg/protocol/web': path.resolve(here, '../../libs/protocol/src/web.ts') },
  },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 900 },
});
