import { Worker } from 'node:worker_threads';
import { WASM_SIMD_STACK_BYTES, type ConvKind, type WasmSimdExports } from './wasm-simd-module';
import { bindWasmSimd } from './wasm-simd-module';
import { webAssemblyApi, type WasmMemory, type WasmModule } from './webassembly-api';

/**
 * The SIMD convolutions on several threads (Node's worker_threads) sharing one WebAssembly memory: the
 * calling thread copies the inputs in and runs `conv3d_prepare` (padding, packing), then every thread runs
 * `conv3d_rows_run` on its share of the output rows (the filter gradient: its own accumulator), and the
 * caller sums the accumulators (`conv3d_finish`) and copies the output out. The kernels are synchronous, so
 * the caller blocks on Atomics.wait until the workers are done (allowed on Node's main thread).
 *
 * Control block per worker, int32: [state, kind, params, out, scratch, row0, row1, thread], state 0 idle,
 * 1 job posted, 2 done, 3 exit, 4 failed.
 */
const SLOTS = 8;
const IDLE = 0;
const POSTED = 1;
const DONE = 2;
const EXIT = 3;
const FAILED = 4;
const PAGE_BYTES = 65536;
/** The C code's per-call thread limit (MAX_THREADS in src/conv3d.c). */
export const MAX_SIMD_THREADS = 4;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, index, stackTop } = workerData;
const { exports } = new WebAssembly.Instance(module, { env: { memory } });
exports.__stack_pointer.value = stackTop;
const c = new Int32Array(control);
const at = index * ${SLOTS};
for (;;) {
  let state = Atomics.load(c, at);
  while (state !== ${POSTED} && state !== ${EXIT}) {
    Atomics.wait(c, at, state);
    state = Atomics.load(c, at);
  }
  if (state === ${EXIT}) break;
  try {
    exports.conv3d_rows_run(c[at + 1], c[at + 2], c[at + 3], c[at + 4], c[at + 5], c[at + 6], c[at + 7]);
    Atomics.store(c, at, ${DONE});
  } catch (err) {
    Atomics.store(c, at, ${FAILED});
  }
  Atomics.notify(c, at);
}
`;

const align16 = (n: number): number => (n + 15) & ~15;

export class SimdThreadPool {
  private readonly memory: WasmMemory;
  private readonly main: WasmSimdExports;
  private readonly control: Int32Array;
  private readonly workers: Worker[] = [];

  /** `threads` in all, the calling one included (2 to MAX_SIMD_THREADS); `module` is the threads build. */
  constructor(
    module: WasmModule,
    readonly threads: number,
  ) {
    const api = webAssemblyApi();
    if (!api) throw new Error('this JavaScript engine has no WebAssembly');
    if (threads < 2 || threads > MAX_SIMD_THREADS)
      throw new RangeError(`threads must be 2..${MAX_SIMD_THREADS}`);
    this.memory = new api.Memory({ initial: 64, maximum: 32768, shared: true });
    this.main = bindWasmSimd(module, this.memory, 0);
    const shared = new SharedArrayBuffer(4 * SLOTS * threads);
    this.control = new Int32Array(shared);
    for (let index = 1; index < threads; index++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          module,
          memory: this.memory,
          control: shared,
          index,
          stackTop: (index + 1) * WASM_SIMD_STACK_BYTES,
        },
      });
      worker.unref(); // idle workers must not keep a process alive
      this.workers.push(worker);
    }
  }

  /**
   * Convolution `kind` on (a, b) into `out` (float32 views anywhere: tfjs-wasm's heap, cpu arrays). Returns
   * false when the module does not handle the shape. Throws when a worker failed.
   */
  conv3d(kind: ConvKind, params: Int32Array, a: Float32Array, b: Float32Array, out: Float32Array): boolean {
    const k = this.main;
    const paramsPtr = this.threads * WASM_SIMD_STACK_BYTES;
    const aPtr = align16(paramsPtr + 4 * params.length);
    this.reserve(aPtr);
    new Int32Array(this.memory.buffer, paramsPtr, params.length).set(params);
    if (!k.conv3d_supported(kind, paramsPtr)) return false;
    const bPtr = align16(aPtr + 4 * a.length);
    const outPtr = align16(bPtr + 4 * b.length);
    // Backprop filter reads dy (b) in the row phase and writes dw (out) at the end.
    const scratchPtr = align16(outPtr + 4 * out.length);
    this.reserve(scratchPtr + k.conv3d_scratch_bytes(kind, paramsPtr));
    new Float32Array(this.memory.buffer, aPtr, a.length).set(a);
    new Float32Array(this.memory.buffer, bPtr, b.length).set(b);
    k.conv3d_prepare(kind, paramsPtr, aPtr, bPtr, scratchPtr);
    const rows = k.conv3d_rows(kind, paramsPtr);
    const rowsOut = kind === 2 ? bPtr : outPtr;
    const share = Math.ceil(rows / this.threads);
    const c = this.control;
    for (let t = 1; t < this.threads; t++) {
      const at = t * SLOTS;
      c.set(
        [kind, paramsPtr, rowsOut, scratchPtr, Math.min(rows, t * share), Math.min(rows, (t + 1) * share), t],
        at + 1,
      );
      Atomics.store(c, at, POSTED);
      Atomics.notify(c, at);
    }
    k.conv3d_rows_run(kind, paramsPtr, rowsOut, scratchPtr, 0, Math.min(rows, share), 0);
    let failed = false;
    for (let t = 1; t < this.threads; t++) {
      const at = t * SLOTS;
      let state = Atomics.load(c, at);
      while (state === POSTED) {
        Atomics.wait(c, at, POSTED);
        state = Atomics.load(c, at);
      }
      failed ||= state === FAILED;
      Atomics.store(c, at, IDLE);
    }
    if (failed) throw new Error('a SIMD worker thread failed');
    k.conv3d_finish(kind, paramsPtr, outPtr, scratchPtr, this.threads);
    out.set(new Float32Array(this.memory.buffer, outPtr, out.length));
    return true;
  }

  /** Stops the workers (the pool cannot be used after). */
  close(): void {
    for (let t = 1; t < this.threads; t++) {
      Atomics.store(this.control, t * SLOTS, EXIT);
      Atomics.notify(this.control, t * SLOTS);
    }
    for (const worker of this.workers) void worker.terminate();
  }

  private reserve(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE_BYTES));
  }
}
