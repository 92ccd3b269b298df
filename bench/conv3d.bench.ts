/**
 * `npm run bench -- conv3d [--repeats N] [--backends wasm,cpu] [--skip-stock] [--threads N]`
 * Conv3D forward and both backprops on 2x32^3x8 -> 16 filters, 3x3x3, stride 1, 'same' (BENCHMARKS.md), per
 * backend and engine: tfjs's own kernels (stock), the WebAssembly SIMD module on 1 thread (wasm-simd, what a
 * machine without libdnnl-dev gets by default) and on N worker threads (wasm-simd-mt; default: the cores
 * available, at most 4), and the oneDNN addon (native, where built; FEDSEG_NATIVE=0 turns it off).
 * Bounds measured in the same run: the module's own sgemm (the same 4 x 8 register block of f32x4
 * multiply-adds as the convolutions, operands in cache, 1 thread), the backend's matMul on the im2col-shaped
 * product of the same size ([2*32^3, 27*8] x [27*8, 16]) and, when /usr/bin/python3 has torch, native sgemm
 * (OpenBLAS through torch.mm, 2 threads, 2048^3).
 * Note: tfjs-wasm 4.22's own conv3d backprops are fast but return wrong values (kernels/conv3d.spec.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import {
  loadNativeKernels,
  registerFastKernels,
  restoreOriginalKernels,
  WASM_SIMD_PATH,
} from '../libs/models/src/kernels';
import {
  bindWasmSimd,
  compileWasmSimd,
  WASM_SIMD_STACK_BYTES,
} from '../libs/models/src/kernels/wasm-simd-module';
import { webAssemblyApi } from '../libs/models/src/kernels/webassembly-api';
import { fmt, median, option, printTable, startableBackends, timeRepeated } from './bench-util';

const X_SHAPE: [number, number, number, number, number] = [2, 32, 32, 32, 8];
const FILTER_SHAPE: [number, number, number, number, number] = [3, 3, 3, 8, 16];
const Y_SHAPE: [number, number, number, number, number] = [2, 32, 32, 32, 16];
const FLOPS = 2 * 2 * 32 ** 3 * 16 * 27 * 8;

type KernelId = 'Conv3D' | 'Conv3DBackpropInputV2' | 'Conv3DBackpropFilterV2' | 'MatMul (im2col-shaped)';
const KERNELS: KernelId[] = [
  'Conv3D',
  'Conv3DBackpropInputV2',
  'Conv3DBackpropFilterV2',
  'MatMul (im2col-shaped)',
];
type EngineId = 'stock' | 'wasm-simd' | 'wasm-simd-mt' | 'native';

function runKernel(
  kernel: KernelId,
  x: tf.Tensor5D,
  filter: tf.Tensor5D,
  dy: tf.Tensor5D,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
): tf.Tensor {
  switch (kernel) {
    case 'Conv3D':
      return tf.conv3d(x, filter, 1, 'same');
    case 'Conv3DBackpropInputV2':
      return tf
        .engine()
        .runKernel(
          tf.Conv3DBackpropInputV2,
          { dy, filter },
          { strides: 1, pad: 'same', inputShape: X_SHAPE },
        ) as tf.Tensor;
    case 'Conv3DBackpropFilterV2':
      return tf
        .engine()
        .runKernel(
          tf.Conv3DBackpropFilterV2,
          { x, dy },
          { strides: 1, pad: 'same', filterShape: FILTER_SHAPE },
        ) as tf.Tensor;
    case 'MatMul (im2col-shaped)':
      return tf.matMul(a, b);
  }
}

/** GFLOP/s at the median time and at the best (shortest) time of the repeats. */
interface Rate {
  median: number;
  best: number;
}

function rate(flops: number, times: readonly number[]): Rate {
  return { median: flops / (median(times) * 1e6), best: flops / (Math.min(...times) * 1e6) };
}

async function gflops(kernel: KernelId, repeats: number, warmup: number): Promise<Rate> {
  const x = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 1) as tf.Tensor5D;
  const filter = tf.randomNormal(FILTER_SHAPE, 0, 1, 'float32', 2) as tf.Tensor5D;
  const dy = tf.randomNormal(Y_SHAPE, 0, 1, 'float32', 3) as tf.Tensor5D;
  const a = tf.randomNormal([2 * 32 ** 3, 27 * 8], 0, 1, 'float32', 4) as tf.Tensor2D;
  const b = tf.randomNormal([27 * 8, 16], 0, 1, 'float32', 5) as tf.Tensor2D;
  const times = await timeRepeated(
    async () => {
      const out = runKernel(kernel, x, filter, dy, a, b);
      await out.data();
      out.dispose();
    },
    repeats,
    warmup,
  );
  tf.dispose([x, filter, dy, a, b]);
  return rate(FLOPS, times);
}

/** The module's sgemm on 256 x 256 x 256 operands in its own memory, 1 thread. */
async function wasmSgemmGflops(repeats: number): Promise<Rate> {
  const api = webAssemblyApi();
  if (!api) return { median: NaN, best: NaN };
  const module = await compileWasmSimd(new Uint8Array(readFileSync(WASM_SIMD_PATH)));
  const n = 256;
  const memory = new api.Memory({ initial: 64 });
  const k = bindWasmSimd(module, memory, 0);
  const a = WASM_SIMD_STACK_BYTES;
  const b = a + 4 * n * n;
  const c = b + 4 * n * n;
  const values = new Float32Array(memory.buffer, a, 2 * n * n);
  for (let i = 0; i < values.length; i++) values[i] = Math.sin(i);
  const times = await timeRepeated(() => k.sgemm(n, n, n, a, b, c), repeats * 4, 3);
  return rate(2 * n ** 3, times);
}

/** OpenBLAS sgemm through PyTorch (2 threads, 2048^3), when /usr/bin/python3 has torch: GFLOP/s or NaN. */
function torchSgemmGflops(): number {
  const script = [
    'import torch, time, json',
    'torch.set_num_threads(2)',
    'a = torch.randn(2048, 2048); b = torch.randn(2048, 2048)',
    'torch.mm(a, b)',
    'ts = []',
    'for _ in range(5):',
    '    t = time.perf_counter(); torch.mm(a, b); ts.append(time.perf_counter() - t)',
    'ts.sort(); print(json.dumps({"gflops": 2 * 2048 ** 3 / ts[2] / 1e9}))',
  ].join('\n');
  const result = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  try {
    const parsed = JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as { gflops?: unknown };
    return typeof parsed.gflops === 'number' ? parsed.gflops : NaN;
  } catch {
    return NaN;
  }
}

export async function run(args: string[]): Promise<void> {
  const repeats = Number(option(args, 'repeats') ?? 7);
  const threads = Number(option(args, 'threads') ?? Math.min(4, availableParallelism()));
  const skipStock = args.includes('--skip-stock');
  const backends = await startableBackends((option(args, 'backends') ?? 'wasm,cpu').split(','));
  const native = loadNativeKernels();
  const nativeOn = native.kernels !== null && process.env['FEDSEG_NATIVE'] !== '0';
  console.log(
    `conv3d: x ${X_SHAPE.join('x')}, filter ${FILTER_SHAPE.join('x')}, ${(FLOPS / 1e9).toFixed(3)} GFLOP per kernel`,
  );
  console.log(
    `native addon: ${nativeOn ? `oneDNN ${native.kernels?.info().onednn ?? ''}` : native.reason || 'turned off (FEDSEG_NATIVE=0)'}\n`,
  );
  const engines: EngineId[] = [
    ...(skipStock ? [] : (['stock'] as const)),
    'wasm-simd',
    'wasm-simd-mt',
    ...(nativeOn ? (['native'] as const) : []),
  ];
  const results: { backend: string; kernel: KernelId; engine: EngineId; gflops: Rate }[] = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    for (const engine of engines) {
      restoreOriginalKernels(backend);
      if (engine !== 'stock')
        await registerFastKernels(backend, () => undefined, {
          native: engine === 'native',
          simd: engine.startsWith('wasm-simd'),
          threads: engine === 'wasm-simd-mt' ? threads : 1,
        });
      for (const kernel of KERNELS) {
        // tfjs's own convolutions take seconds per call on cpu: a few runs suffice for a median. The others
        // get 8 warmup calls: V8 runs new WebAssembly code in its baseline tier (Liftoff, here ~3x slower)
        // until a background compile replaces it, which took 8-10 calls while the machine was loaded.
        const slow = engine === 'stock' && kernel !== 'MatMul (im2col-shaped)';
        results.push({
          backend,
          kernel,
          engine,
          gflops: await gflops(kernel, slow ? 3 : repeats, slow ? 1 : 8),
        });
      }
    }
    restoreOriginalKernels(backend);
  }
  const sgemmWasm = await wasmSgemmGflops(repeats);
  const sgemmTorch = torchSgemmGflops();
  const at = (backend: string, kernel: KernelId, engine: EngineId): Rate =>
    results.find((r) => r.backend === backend && r.kernel === kernel && r.engine === engine)?.gflops ?? {
      median: NaN,
      best: NaN,
    };
  // On a shared machine the median mixes in other work; the best run shows what the kernel can do.
  printTable(
    ['backend', 'kernel', ...engines.map((e) => `${e} GFLOP/s median (best)`), 'wasm-simd / sgemm bound'],
    backends.flatMap((backend) =>
      KERNELS.map((kernel) => [
        backend,
        kernel,
        ...engines.map(
          (e) => `${fmt(at(backend, kernel, e).median, 2)} (${fmt(at(backend, kernel, e).best, 1)})`,
        ),
        kernel.startsWith('Conv3D')
          ? `${fmt(at(backend, kernel, 'wasm-simd').median / sgemmWasm.median, 2)} (${fmt(at(backend, kernel, 'wasm-simd').best / sgemmWasm.best, 2)})`
          : '-',
      ]),
    ),
  );
  console.log(
    `\nsgemm bound, wasm SIMD128 4x8 block, 256^3, 1 thread: ${fmt(sgemmWasm.median, 2)} (best ${fmt(sgemmWasm.best, 1)}) GFLOP/s`,
  );
  console.log(
    `native sgemm (OpenBLAS via torch.mm, 2 threads, 2048^3): ${Number.isFinite(sgemmTorch) ? `${fmt(sgemmTorch, 1)} GFLOP/s` : 'skipped (needs /usr/bin/python3 with torch)'}`,
  );
  const round = (value: number): number | null =>
    Number.isFinite(value) ? Math.round(value * 100) / 100 : null;
  console.log(
    JSON.stringify({
      bench: 'conv3d',
      shape: { x: X_SHAPE, filter: FILTER_SHAPE },
      gflop_per_kernel: FLOPS / 1e9,
      native: nativeOn ? (native.kernels?.info().onednn ?? null) : null,
      threads,
      sgemm_wasm_simd_gflops: round(sgemmWasm.median),
      sgemm_wasm_simd_best_gflops: round(sgemmWasm.best),
      sgemm_native_2_threads_gflops: round(sgemmTorch),
      results: results.map((r) => ({
        ...r,
        gflops: round(r.gflops.median),
        best_gflops: round(r.gflops.best),
      })),
    }),
  );
}
