import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { bindWasmSimd, WASM_SIMD_STACK_BYTES, type ConvKind, type WasmSimdExports } from './wasm-simd-module';
import { isWasmMemory, webAssemblyApi, type WasmMemory, type WasmModule } from './webassembly-api';

/**
 * Where the SIMD module's kernels find their operands, per backend: on wasm, tfjs-wasm's own heap (the
 * module imports that memory; tensors are read and written in place); on cpu, whose tensors are JavaScript
 * typed arrays, a memory of the module's own (inputs copied in, outputs copied out).
 */
const PAGE_BYTES = 65536;
const PARAM_BYTES = 24 * 4;
/** instance_norm_scratch_bytes(c) / c in src/instance-norm.c: 6 float and 2 double arrays of c. */
export const INSTANCE_NORM_SCRATCH_PER_CHANNEL = 40;

/**
 * Runs a kernel of the SIMD module on tensors of one backend. On wasm the module shares tfjs-wasm's heap
 * (its memory is imported), so tensors are read and written in place; on cpu, whose tensors are JavaScript
 * typed arrays, inputs are copied into a memory of the module's own and the output copied out.
 */
export interface SimdHost {
  /**
   * Calls `fn` with the byte offsets of `inputs` then `outputs` in the module's memory and `scratchBytes` of
   * scratch; returns what fn returns. Views on tfjs-wasm's heap are used in place; others are copied in,
   * and the outputs copied back.
   */
  withViews(
    inputs: readonly Float32Array[],
    outputs: readonly Float32Array[],
    scratchBytes: number,
    fn: (k: WasmSimdExports, ptrs: number[], scratch: number, memory: WasmMemory) => number,
  ): number;
  conv3d(
    kind: ConvKind,
    params: Int32Array,
    a: TensorInfo,
    b: TensorInfo,
    outShape: number[],
  ): TensorInfo | null;
  /**
   * A new output tensor and float32 views of it and of a, b, valid until the next allocation; `release`
   * frees the output if the caller does not return it.
   */
  views(a: TensorInfo, b: TensorInfo, outShape: number[]): TensorViews;
}

interface TensorViews {
  a: Float32Array;
  b: Float32Array;
  out: Float32Array;
  result: TensorInfo;
  release(): void;
}

/** What tfjs-wasm's Emscripten module exposes that the host uses (present in 4.22, typed loosely there). */
interface EmscriptenHeap {
  asm: { memory: WasmMemory };
  _malloc(bytes: number): number;
  _free(ptr: number): void;
}

function emscriptenHeap(backend: BackendWasm): EmscriptenHeap {
  const wasm = backend.wasm as unknown as Partial<EmscriptenHeap>;
  if (!isWasmMemory(wasm.asm?.memory) || typeof wasm._malloc !== 'function')
    throw new Error("tfjs-wasm's module does not expose its memory and malloc (tfjs-backend-wasm 4.22 does)");
  return wasm as EmscriptenHeap;
}

const align16 = (n: number): number => (n + 15) & ~15;

/** On tfjs-wasm's heap: scratch from its malloc, outputs from makeOutput, no copies. */
export function wasmHost(module: WasmModule, backend: BackendWasm): SimdHost {
  const heap = emscriptenHeap(backend);
  // Never freed: one stack per backend instance, as long-lived as the instance bound to it.
  const stackBase = align16(heap._malloc(WASM_SIMD_STACK_BYTES + 16));
  const k = bindWasmSimd(module, heap.asm.memory, stackBase);
  const offset = (t: TensorInfo): number => {
    const data = backend.dataIdMap.get(t.dataId);
    if (!data) throw new Error('tensor data missing from the wasm backend');
    return data.memoryOffset;
  };
  return {
    withViews(inputs, outputs, scratchBytes, fn) {
      const ptrs = [...inputs, ...outputs].map((view) => {
        if (view.buffer !== heap.asm.memory.buffer) throw new Error('a view is not on the wasm heap');
        return view.byteOffset;
      });
      const scratch = heap._malloc(scratchBytes + 16);
      try {
        return fn(k, ptrs, align16(scratch), heap.asm.memory);
      } finally {
        heap._free(scratch);
      }
    },
    views(a, b, outShape) {
      const result = backend.makeOutput(outShape, 'float32');
      return {
        a: backend.typedArrayFromHeap(a) as Float32Array,
        b: backend.typedArrayFromHeap(b) as Float32Array,
        out: backend.typedArrayFromHeap(result) as Float32Array,
        result,
        release: () => backend.disposeData(result.dataId, true),
      };
    },
    conv3d(kind, params, a, b, outShape) {
      const paramsPtr = heap._malloc(PARAM_BYTES);
      try {
        new Int32Array(heap.asm.memory.buffer, paramsPtr, 24).set(params);
        if (!k.conv3d_supported(kind, paramsPtr)) return null;
        const scratchBytes = k.conv3d_scratch_bytes(kind, paramsPtr);
        const out = backend.makeOutput(outShape, 'float32');
        const scratch = heap._malloc(scratchBytes + 16);
        try {
          run(k, kind, paramsPtr, offset(a), offset(b), offset(out), align16(scratch));
        } finally {
          heap._free(scratch);
        }
        return out;
      } finally {
        heap._free(paramsPtr);
      }
    },
  };
}

/** On the cpu backend: a memory of the module's own, [stack | params | a | b | out | scratch], reused. */
export function cpuHost(module: WasmModule, backend: MathBackendCPU): SimdHost {
  const api = webAssemblyApi();
  if (!api) throw new Error('this JavaScript engine has no WebAssembly');
  const memory = new api.Memory({ initial: 2 * (WASM_SIMD_STACK_BYTES / PAGE_BYTES) });
  const k = bindWasmSimd(module, memory, 0);
  const valuesOf = (t: TensorInfo): Float32Array => {
    const values = backend.data.get(t.dataId)?.values;
    if (!(values instanceof Float32Array)) throw new Error(`expected float32 values, got ${t.dtype}`);
    return values;
  };
  const reserve = (end: number): void => {
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE_BYTES));
  };
  return {
    withViews(inputs, outputs, scratchBytes, fn) {
      const ptrs: number[] = [];
      let end = WASM_SIMD_STACK_BYTES;
      for (const view of [...inputs, ...outputs]) {
        ptrs.push(end);
        end = align16(end + view.byteLength);
      }
      reserve(end + scratchBytes);
      inputs.forEach((view, i) => new Float32Array(memory.buffer, ptrs[i], view.length).set(view));
      const result = fn(k, ptrs, end, memory);
      outputs.forEach((view, i) =>
        view.set(new Float32Array(memory.buffer, ptrs[inputs.length + i], view.length)),
      );
      return result;
    },
    views(a, b, outShape) {
      const out = new Float32Array(outShape.reduce((p, d) => p * d, 1));
      const result = backend.makeTensorInfo(outShape, 'float32', out);
      return {
        a: valuesOf(a),
        b: valuesOf(b),
        out,
        result,
        release: () => backend.disposeData(result.dataId, true),
      };
    },
    conv3d(kind, params, a, b, outShape) {
      const paramsPtr = WASM_SIMD_STACK_BYTES;
      new Int32Array(memory.buffer, paramsPtr, 24).set(params);
      if (!k.conv3d_supported(kind, paramsPtr)) return null;
      const aValues = valuesOf(a);
      const bValues = valuesOf(b);
      const outLength = outShape.reduce((p, d) => p * d, 1);
      const aPtr = align16(paramsPtr + PARAM_BYTES);
      const bPtr = align16(aPtr + 4 * aValues.length);
      const outPtr = align16(bPtr + 4 * bValues.length);
      const scratchPtr = align16(outPtr + 4 * outLength);
      const end = scratchPtr + k.conv3d_scratch_bytes(kind, paramsPtr);
      if (end > memory.buffer.byteLength)
        memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE_BYTES));
      new Float32Array(memory.buffer, aPtr, aValues.length).set(aValues);
      new Float32Array(memory.buffer, bPtr, bValues.length).set(bValues);
      run(k, kind, paramsPtr, aPtr, bPtr, outPtr, scratchPtr);
      const out = new Float32Array(memory.buffer, outPtr, outLength).slice();
      return backend.makeTensorInfo(outShape, 'float32', out);
    },
  };
}

function run(
  k: WasmSimdExports,
  kind: ConvKind,
  params: number,
  a: number,
  b: number,
  out: number,
  scratch: number,
): void {
  if (kind === 0) k.conv3d_forward(params, a, b, out, scratch);
  else if (kind === 1) k.conv3d_backprop_input(params, a, b, out, scratch);
  else k.conv3d_backprop_filter(params, a, b, out, scratch);
}
