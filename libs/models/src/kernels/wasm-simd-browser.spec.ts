import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { transformSync } from '@swc/core';
import { chromium, type BrowserContext } from 'playwright-core';
import { conv3dParams } from './conv3d-params';
import { WASM_SIMD_PATH } from './wasm-simd-kernels';

/**
 * The committed fedseg-kernels.wasm, loaded by this library's own browser-safe loader (wasm-simd-module.ts,
 * compiled by swc), in Debian's chromium (headless, never downloaded), computes one convolution that matches
 * the cpu backend's reference kernel.
 */
const CHROMIUM = '/usr/bin/chromium';
// Outside CI a machine without Debian's chromium skips loudly; under CI=true (.ci/run installs it) it fails.
if (!existsSync(CHROMIUM) && process.env.CI)
  throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
if (!existsSync(CHROMIUM)) console.warn(`SKIPPING the browser kernel test: no ${CHROMIUM}`);
const describeBrowser = existsSync(CHROMIUM) ? describe : describe.skip;

/** The loader's files as CommonJS, for a tiny require() in the page (they import only each other). */
function loaderSources(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['webassembly-api', 'wasm-simd-module']) {
    const source = readFileSync(join(__dirname, `${name}.ts`), 'utf8');
    out[`./${name}`] = transformSync(source, {
      filename: `${name}.ts`,
      jsc: { parser: { syntax: 'typescript' }, target: 'es2020' },
      module: { type: 'commonjs' },
    }).code;
  }
  return out;
}

interface PageResult {
  y: number[];
  userAgent: string;
}

describeBrowser('the WebAssembly SIMD module in chromium', () => {
  let browser: BrowserContext | undefined;
  let profile = '';

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'fedseg-chromium-'));
    // A fresh profile directory per run (launchPersistentContext is how playwright takes --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('computes a strided convolution equal to the cpu reference', async () => {
    const xShape: [number, number, number, number, number] = [1, 5, 6, 7, 3];
    const wShape: [number, number, number, number, number] = [3, 3, 3, 3, 8];
    await tf.setBackend('cpu');
    const x = tf.randomNormal(xShape, 0, 1, 'float32', 31) as tf.Tensor5D;
    const w = tf.randomNormal(wShape, 0, 1, 'float32', 32) as tf.Tensor5D;
    const reference = tf.conv3d(x, w, 2, 'same');
    const info = tf.backend_util.computeConv3DInfo(xShape, wShape, 2, 1, 'same');

    const page = await (browser as BrowserContext).newPage();
    const result = await page.evaluate(
      async ({ sources, bytes, params, xValues, wValues, outLength }): Promise<PageResult> => {
        type Factory = (exports: object, require: (name: string) => unknown) => void;
        const cache: Record<string, object> = {};
        const load = (name: string): unknown => {
          if (!cache[name]) {
            cache[name] = {};
            (new Function('exports', 'require', sources[name]) as Factory)(cache[name], load);
          }
          return cache[name];
        };
        interface Loader {
          compileWasmSimd(bytes: Uint8Array): Promise<unknown>;
          bindWasmSimdAsync(
            module: unknown,
            memory: unknown,
            stackBase: number,
          ): Promise<Record<string, (...args: number[]) => number>>;
          WASM_SIMD_STACK_BYTES: number;
        }
        const loader = load('./wasm-simd-module') as Loader;
        const module = await loader.compileWasmSimd(new Uint8Array(bytes));
        // The page's own WebAssembly (this file is type-checked without the DOM lib).
        const api = (
          globalThis as unknown as {
            WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } };
          }
        ).WebAssembly;
        const memory = new api.Memory({ initial: 64 });
        const k = await loader.bindWasmSimdAsync(module, memory, 0);
        const base = loader.WASM_SIMD_STACK_BYTES;
        const p = base;
        const xp = p + 128;
        const wp = xp + 4 * xValues.length + 16;
        const yp = wp + 4 * wValues.length + 16;
        const sp = (yp + 4 * outLength + 16) & ~15;
        new Int32Array(memory.buffer, p, 24).set(params);
        new Float32Array(memory.buffer, xp, xValues.length).set(xValues);
        new Float32Array(memory.buffer, wp, wValues.length).set(wValues);
        if (!k['conv3d_supported'](0, p)) throw new Error('shape refused');
        if (sp + k['conv3d_scratch_bytes'](0, p) > memory.buffer.byteLength)
          throw new Error('memory too small');
        k['conv3d_forward'](p, xp, wp, yp, sp);
        const userAgent = (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent;
        return { y: Array.from(new Float32Array(memory.buffer, yp, outLength)), userAgent };
      },
      {
        sources: loaderSources(),
        bytes: Array.from(readFileSync(WASM_SIMD_PATH)),
        params: Array.from(conv3dParams(info)),
        xValues: Array.from(x.dataSync()),
        wValues: Array.from(w.dataSync()),
        outLength: reference.size,
      },
    );
    expect(result.userAgent).toMatch(/Chrome\//);
    const expected = reference.dataSync();
    expect(result.y).toHaveLength(expected.length);
    let worst = 0;
    for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(result.y[i] - expected[i]));
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([x, w, reference]);
  }, 60_000);
});
