/**
 * The WebAssembly SIMD kernels (libs/models/wasm/fedseg-kernels.wasm, built from C by
 * libs/models/wasm/build.sh) bound to one WebAssembly.Memory. No Node imports: a browser loads the same
 * bytes through this file (the chromium spec does).
 *
 * The module imports its memory and has no data segment, so it can run directly on tfjs-wasm's heap
 * (tensors are read and written in place) or on a memory of its own. It needs a stack of its own in that
 * memory: the host allocates one and points the exported `__stack_pointer` at its top.
 */
import {
  isWasmGlobal,
  webAssemblyApi,
  type WasmExports,
  type WasmGlobal,
  type WasmInstance,
  type WasmMemory,
  type WasmModule,
} from './webassembly-api';

/** The kernels' exports (libs/models/wasm/src/conv3d.c). Pointers are byte offsets into the memory. */
export interface WasmSimdExports {
  __stack_pointer: WasmGlobal;
  conv3d_supported(kind: number, params: number): number;
  conv3d_scratch_bytes(kind: number, params: number): number;
  conv3d_forward(params: number, x: number, w: number, y: number, scratch: number): void;
  conv3d_backprop_input(params: number, dy: number, w: number, dx: number, scratch: number): void;
  conv3d_backprop_filter(params: number, x: number, dy: number, dw: number, scratch: number): void;
  instance_norm_scratch_bytes(c: number): number;
  /** src/instance-norm.c; returns 0 (and does nothing) unless c % 4 == 0 and c <= 256. */
  instance_norm_forward(
    x: number,
    gamma: number,
    beta: number,
    n: number,
    s: number,
    c: number,
    epsilon: number,
    y: number,
    stats: number,
    scratch: number,
  ): number;
  instance_norm_backward(
    dy: number,
    x: number,
    gamma: number,
    stats: number,
    n: number,
    s: number,
    c: number,
    dx: number,
    dGamma: number,
    dBeta: number,
    scratch: number,
  ): number;
  /** The phases of one convolution shared by threads (src/conv3d.c): prepare, rows on each, finish. */
  conv3d_prepare(kind: number, params: number, a: number, b: number, scratch: number): void;
  conv3d_rows(kind: number, params: number): number;
  conv3d_rows_run(
    kind: number,
    params: number,
    out: number,
    scratch: number,
    row0: number,
    row1: number,
    thread: number,
  ): void;
  conv3d_finish(kind: number, params: number, out: number, scratch: number, threads: number): void;
  /** src/max-pool-3d-grad.c: params = pool3dParams (17 int32); returns 0 unless c % 4 == 0. */
  max_pool3d_grad(dy: number, x: number, params: number, dx: number): number;
  /** src/sum-block.c: returns 0 unless inner is 1 or a multiple of 4 (<= 1024); scratch 12 * inner bytes. */
  sum_block(
    x: number,
    outer: number,
    reduce: number,
    inner: number,
    scale: number,
    out: number,
    scratch: number,
  ): number;
  /** src/copy-rows.c (strides and lengths in floats). */
  copy_rows(
    src: number,
    srcStride: number,
    dst: number,
    dstStride: number,
    rows: number,
    rowLength: number,
  ): void;
  /** C [m, n] = A [m, k] . B [k, n] (m % 4 == 0, n % 8 == 0): the benchmarks' yardstick (src/sgemm.c). */
  sgemm(m: number, n: number, k: number, a: number, b: number, c: number): void;
}

/** 0: forward (x, w) -> y; 1: backprop input (dy, w) -> dx; 2: backprop filter (x, dy) -> dw. */
export type ConvKind = 0 | 1 | 2;

/** Bytes of stack the C code may use (it keeps only small arrays there). */
export const WASM_SIMD_STACK_BYTES = 64 * 1024;

const EXPORTED_FUNCTIONS = [
  'conv3d_supported',
  'conv3d_scratch_bytes',
  'conv3d_forward',
  'conv3d_backprop_input',
  'conv3d_backprop_filter',
  'sgemm',
  'max_pool3d_grad',
  'sum_block',
  'copy_rows',
  'conv3d_prepare',
  'conv3d_rows',
  'conv3d_rows_run',
  'conv3d_finish',
  'instance_norm_scratch_bytes',
  'instance_norm_forward',
  'instance_norm_backward',
] as const;

/** Why a module cannot be used, named so a caller can tell it from a programming error. */
export class WasmSimdUnavailableError extends Error {
  override readonly name = 'WasmSimdUnavailableError';
}

/**
 * Section ids of a WebAssembly binary (spec 5.5.2). A data segment (id 11) would be copied into the imported
 * memory at instantiation, overwriting whatever the host keeps there, so such a module is refused.
 */
function sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d)
    throw new WasmSimdUnavailableError('not a WebAssembly binary');
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos++];
    let size = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[pos++];
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    ids.push(id);
    pos += size;
  }
  return ids;
}

/** Compiles the kernels' bytes once; instantiate them per memory with `bindWasmSimd`. */
export async function compileWasmSimd(bytes: Uint8Array): Promise<WasmModule> {
  const api = webAssemblyApi();
  if (!api) throw new WasmSimdUnavailableError('this JavaScript engine has no WebAssembly');
  if (sectionIds(bytes).includes(11))
    throw new WasmSimdUnavailableError(
      'the module has a data segment; it must not write the memory it imports',
    );
  try {
    return await api.compile(bytes);
  } catch (err) {
    // An engine without SIMD128 refuses to compile (validation error), which is a reason, not a crash.
    throw new WasmSimdUnavailableError(
      `this engine cannot compile WebAssembly SIMD128: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

function isExports(value: WasmExports): value is WasmExports & WasmSimdExports {
  return (
    isWasmGlobal(value['__stack_pointer']) &&
    EXPORTED_FUNCTIONS.every((name) => typeof value[name] === 'function')
  );
}

function bound(instance: WasmInstance, stackBase: number): WasmSimdExports {
  const exports = instance.exports;
  if (!isExports(exports)) throw new WasmSimdUnavailableError('the module lacks the expected exports');
  if (stackBase % 16 !== 0) throw new RangeError(`stack base ${stackBase} is not 16-aligned`);
  exports.__stack_pointer.value = stackBase + WASM_SIMD_STACK_BYTES;
  return exports;
}

/**
 * Instantiates the kernels on `memory`, with their stack in [stackBase, stackBase + WASM_SIMD_STACK_BYTES)
 * (16-aligned, owned by the caller for as long as the instance is used). Synchronous, for Node; a browser's
 * main thread must use `bindWasmSimdAsync` (Chromium refuses synchronous instantiation of larger modules).
 */
export function bindWasmSimd(module: WasmModule, memory: WasmMemory, stackBase: number): WasmSimdExports {
  const api = webAssemblyApi();
  if (!api) throw new WasmSimdUnavailableError('this JavaScript engine has no WebAssembly');
  return bound(new api.Instance(module, { env: { memory } }), stackBase);
}

/** `bindWasmSimd` for a browser's main thread. */
export async function bindWasmSimdAsync(
  module: WasmModule,
  memory: WasmMemory,
  stackBase: number,
): Promise<WasmSimdExports> {
  const api = webAssemblyApi();
  if (!api) throw new WasmSimdUnavailableError('this JavaScript engine has no WebAssembly');
  return bound(await api.instantiate(module, { env: { memory } }), stackBase);
}
