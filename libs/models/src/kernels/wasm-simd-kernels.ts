import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { cpuHost, INSTANCE_NORM_SCRATCH_PER_CHANNEL, wasmHost, type SimdHost } from './wasm-simd-hosts';
import type { KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import type { PortableBackendName } from './tensor-memory';
import { MAX_SIMD_THREADS, SimdThreadPool } from './wasm-simd-threads';
import { compileWasmSimd, type ConvKind } from './wasm-simd-module';
import type { WasmModule } from './webassembly-api';

/** The committed builds of libs/models/wasm/src (libs/models/wasm/build.sh): one thread, and shared memory. */
export const WASM_SIMD_PATH = join(__dirname, '..', '..', 'wasm', 'fedseg-kernels.wasm');
export const WASM_SIMD_THREADS_PATH = join(__dirname, '..', '..', 'wasm', 'fedseg-kernels-threads.wasm');

/**
 * Convolutions below this many FLOPs stay on the calling thread, in place: for them, copying into the shared
 * memory and waking a worker costs about what the second thread saves.
 */
export const MIN_THREADED_FLOPS = 20e6;

/** 2 x multiply-adds of a convolution from its conv3dParams (the same for all three kinds). */
function flopsOf(p: Int32Array): number {
  return 2 * p[0] * p[5] * p[6] * p[7] * p[8] * p[9] * p[10] * p[11] * p[4];
}

export type SimdFunction = 'conv3d' | 'instanceNorm' | 'maxPool3dGrad' | 'sumBlock' | 'copyRows';

/** The compiled module and one host per backend instance (a backend re-created after removal gets its own). */
export class WasmSimdKernels {
  private readonly hosts = new WeakMap<KernelBackend, SimdHost>();
  /** Kernels run in the module so far (tests check that a kernel did not fall back). */
  calls = 0;
  /** The same per function of the module. */
  readonly callsOf: Record<SimdFunction, number> = {
    conv3d: 0,
    instanceNorm: 0,
    maxPool3dGrad: 0,
    sumBlock: 0,
    copyRows: 0,
  };
  /** Of those, the ones shared by worker threads. */
  threadedCalls = 0;
  private pool: SimdThreadPool | null = null;
  /** Convolutions from this size on use the threads (tests set 0 to send every one there). */
  minThreadedFlops = MIN_THREADED_FLOPS;
  /** Why the convolutions run on one thread, when they do (empty when they use several). */
  threadNote = 'FEDSEG_WASM_THREADS=2 or more to use worker threads';

  constructor(
    readonly module: WasmModule,
    private readonly threadsModule: WasmModule | null,
    private readonly threadsUnavailable = '',
  ) {}

  /** Threads (the caller's included) for large convolutions, 1 to MAX_SIMD_THREADS; returns the count in use. */
  setThreads(threads: number): number {
    const wanted = Math.max(1, Math.min(MAX_SIMD_THREADS, Math.floor(threads)));
    if (this.pool?.threads === wanted) return wanted;
    this.pool?.close();
    this.pool = null;
    if (wanted === 1) {
      this.threadNote = 'FEDSEG_WASM_THREADS=2 or more to use worker threads';
      return 1;
    }
    if (!this.threadsModule) {
      this.threadNote = this.threadsUnavailable;
      return 1;
    }
    try {
      this.pool = new SimdThreadPool(this.threadsModule, wanted);
      this.threadNote = '';
      return wanted;
    } catch (err) {
      this.threadNote = `worker threads unavailable: ${err instanceof Error ? err.message : String(err)}`;
      return 1;
    }
  }

  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  private count(fn: SimdFunction): void {
    this.calls++;
    this.callsOf[fn]++;
  }

  private host(backendName: PortableBackendName, backend: KernelBackend): SimdHost {
    let host = this.hosts.get(backend);
    if (!host) {
      host =
        backendName === 'wasm'
          ? wasmHost(this.module, backend as unknown as BackendWasm)
          : cpuHost(this.module, backend as unknown as MathBackendCPU);
      this.hosts.set(backend, host);
    }
    return host;
  }

  /**
   * Instance norm forward on float32 views (from allocateOutputs) of one backend's tensors: x [n, s, c],
   * gamma, beta [c] -> y, stats [n, c, 2]. Returns false when the module does not handle c (the caller then
   * runs the TypeScript loops).
   */
  instanceNormForward(
    backendName: PortableBackendName,
    backend: KernelBackend,
    views: { x: Float32Array; gamma: Float32Array; beta: Float32Array; y: Float32Array; stats: Float32Array },
    dims: { n: number; s: number; c: number },
    epsilon: number,
  ): boolean {
    const { x, gamma, beta, y, stats } = views;
    const { n, s, c } = dims;
    const host = this.host(backendName, backend);
    const ok = host.withViews(
      [x, gamma, beta],
      [y, stats],
      c * INSTANCE_NORM_SCRATCH_PER_CHANNEL,
      (k, [px, pg, pb, py, ps], sp) => k.instance_norm_forward(px, pg, pb, n, s, c, epsilon, py, ps, sp),
    );
    if (ok) this.count('instanceNorm');
    return ok === 1;
  }

  /** Instance norm backward: (dy, x [n, s, c], gamma [c], stats [n, c, 2]) -> dx, dGamma, dBeta [c]. */
  instanceNormBackward(
    backendName: PortableBackendName,
    backend: KernelBackend,
    views: {
      dy: Float32Array;
      x: Float32Array;
      gamma: Float32Array;
      stats: Float32Array;
      dx: Float32Array;
      dGamma: Float32Array;
      dBeta: Float32Array;
    },
    dims: { n: number; s: number; c: number },
  ): boolean {
    const { dy, x, gamma, stats, dx, dGamma, dBeta } = views;
    const { n, s, c } = dims;
    const host = this.host(backendName, backend);
    const ok = host.withViews(
      [dy, x, gamma, stats],
      [dx, dGamma, dBeta],
      c * INSTANCE_NORM_SCRATCH_PER_CHANNEL,
      (k, p, sp) => k.instance_norm_backward(p[0], p[1], p[2], p[3], n, s, c, p[4], p[5], p[6], sp),
    );
    if (ok) this.count('instanceNorm');
    return ok === 1;
  }

  /**
   * MaxPool3DGrad on float32 views of wasm-backend tensors (in place): dy, x -> dx, params from
   * pool3dParams. Returns false when the module does not handle the shape (channels not a multiple of 4).
   */
  maxPool3dGrad(
    backend: KernelBackend,
    views: { dy: Float32Array; x: Float32Array; dx: Float32Array },
    params: Int32Array,
  ): boolean {
    const ok = this.host('wasm', backend).withViews(
      [views.dy, views.x],
      [views.dx],
      4 * params.length,
      (k, [dy, x, dx], scratch, memory) => {
        new Int32Array(memory.buffer, scratch, params.length).set(params);
        return k.max_pool3d_grad(dy, x, scratch, dx);
      },
    );
    if (ok === 1) this.count('maxPool3dGrad');
    return ok === 1;
  }

  /** out[o, i] = scale * sum_r x[o, r, i] on wasm-backend views (in place); false: not handled (see C). */
  sumBlock(
    backend: KernelBackend,
    x: Float32Array,
    block: { outer: number; reduce: number; inner: number },
    scale: number,
    out: Float32Array,
  ): boolean {
    const { outer, reduce, inner } = block;
    const ok = this.host('wasm', backend).withViews([x], [out], 12 * inner + 16, (k, [xp, op], scratch) =>
      k.sum_block(xp, outer, reduce, inner, scale, op, scratch),
    );
    if (ok === 1) this.count('sumBlock');
    return ok === 1;
  }

  /**
   * A row copier for concat and split on the wasm backend, the addon's copyRows signature: layout
   * [srcOffset, srcStride, dstOffset, dstStride, rows, rowLength] in floats, src and dst views of the heap.
   */
  rowCopier(backend: KernelBackend): {
    copyRows(src: Float32Array, dst: Float32Array, layout: Int32Array): void;
  } {
    const host = this.host('wasm', backend);
    return {
      copyRows: (src, dst, layout) => {
        host.withViews([src], [dst], 0, (k, [sp, dp]) => {
          k.copy_rows(sp + 4 * layout[0], layout[1], dp + 4 * layout[2], layout[3], layout[4], layout[5]);
          this.count('copyRows');
          return 1;
        });
      },
    };
  }

  /**
   * Runs convolution `kind` (0 forward, 1 backprop input, 2 backprop filter) with `params` from
   * `conv3dParams` on float32 tensors `a`, `b` of `backend`, into a new tensor of `outShape`. Returns null
   * when the module does not handle the shape (the caller then runs another kernel).
   */
  conv3d(
    backendName: PortableBackendName,
    backend: KernelBackend,
    kind: ConvKind,
    params: Int32Array,
    a: TensorInfo,
    b: TensorInfo,
    outShape: number[],
  ): TensorInfo | null {
    const host = this.host(backendName, backend);
    const pool = this.pool;
    if (pool && flopsOf(params) >= this.minThreadedFlops) {
      const views = host.views(a, b, outShape);
      try {
        if (!pool.conv3d(kind, params, views.a, views.b, views.out)) {
          views.release();
          return null;
        }
        this.count('conv3d');
        this.threadedCalls++;
        return views.result;
      } catch (err) {
        views.release();
        pool.close();
        this.pool = null;
        this.threadNote = `worker threads failed, one thread from now on: ${err instanceof Error ? err.message : String(err)}`;
      }
    }
    const out = host.conv3d(kind, params, a, b, outShape);
    if (out) this.count('conv3d');
    return out;
  }
}

export interface WasmSimdLoad {
  kernels: WasmSimdKernels | null;
  /** Why `kernels` is null; empty when loaded. */
  reason: string;
}

let loading: Promise<WasmSimdLoad> | undefined;

/** Reads and compiles fedseg-kernels.wasm once per process; never rejects. */
export function loadWasmSimdKernels(): Promise<WasmSimdLoad> {
  loading ??= (async (): Promise<WasmSimdLoad> => {
    try {
      const module = await compileWasmSimd(new Uint8Array(readFileSync(WASM_SIMD_PATH)));
      let threadsModule: WasmModule | null = null;
      let threadsUnavailable = '';
      try {
        if (typeof SharedArrayBuffer === 'undefined') throw new Error('no SharedArrayBuffer here');
        threadsModule = await compileWasmSimd(new Uint8Array(readFileSync(WASM_SIMD_THREADS_PATH)));
      } catch (err) {
        threadsUnavailable = `threads build unavailable: ${err instanceof Error ? err.message : String(err)}`;
      }
      return { kernels: new WasmSimdKernels(module, threadsModule, threadsUnavailable), reason: '' };
    } catch (err) {
      return { kernels: null, reason: err instanceof Error ? err.message : String(err) };
    }
  })();
  return loading;
}
