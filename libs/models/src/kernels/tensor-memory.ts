import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { util, type KernelBackend, type TensorInfo } from '@tensorflow/tfjs-core';

/** The two backends whose tensors live in memory a native kernel can read and write in place. */
export type PortableBackendName = 'cpu' | 'wasm';

export function isPortableBackend(name: string): name is PortableBackendName {
  return name === 'cpu' || name === 'wasm';
}

/** A kernel's output tensors and float32 views of them and of its inputs, valid until the kernel returns. */
export interface KernelMemory {
  outs: TensorInfo[];
  outValues: Float32Array[];
  inputs: Float32Array[];
}

/**
 * Allocates float32 outputs of `outShapes` on the backend and returns views of them and of `inputs`.
 * On wasm the outputs are allocated first, because allocating may grow the WebAssembly memory, which
 * detaches every view taken before. Returns null when an input is not float32 (the caller then runs
 * the backend's own kernel).
 */
export function allocateOutputs(
  backendName: PortableBackendName,
  backend: KernelBackend,
  inputs: readonly TensorInfo[],
  outShapes: readonly number[][],
): KernelMemory | null {
  if (inputs.some((t) => t.dtype !== 'float32')) return null;
  if (backendName === 'cpu') {
    const cpu = backend as unknown as MathBackendCPU;
    const views: Float32Array[] = [];
    for (const t of inputs) {
      const values = cpu.data.get(t.dataId)?.values;
      if (!(values instanceof Float32Array)) return null;
      views.push(values);
    }
    const outValues = outShapes.map((shape) => new Float32Array(util.sizeFromShape(shape)));
    const outs = outShapes.map((shape, i) => cpu.makeTensorInfo(shape, 'float32', outValues[i]));
    return { outs, outValues, inputs: views };
  }
  const wasm = backend as unknown as BackendWasm;
  const outs = outShapes.map((shape) => wasm.makeOutput(shape, 'float32'));
  return {
    outs,
    outValues: outs.map((t) => wasm.typedArrayFromHeap(t) as Float32Array),
    inputs: inputs.map((t) => wasm.typedArrayFromHeap(t) as Float32Array),
  };
}

/** `allocateOutputs` for a kernel with one output. */
export function allocateAndView(
  backendName: PortableBackendName,
  backend: KernelBackend,
  inputs: readonly TensorInfo[],
  outShape: number[],
): { out: TensorInfo; outValues: Float32Array; inputs: Float32Array[] } | null {
  const mem = allocateOutputs(backendName, backend, inputs, [outShape]);
  return mem && { out: mem.outs[0], outValues: mem.outValues[0], inputs: mem.inputs };
}

/** Releases an output allocated by `allocateAndView` when the kernel falls back after all. */
export function releaseOutput(backend: KernelBackend, out: TensorInfo): void {
  backend.disposeData(out.dataId, true);
}

/**
 * A fresh float32 view of a tensor's values. On wasm, take it after the last allocation: growing the
 * WebAssembly memory detaches earlier views.
 */
export function float32View(
  backendName: PortableBackendName,
  backend: KernelBackend,
  t: TensorInfo,
): Float32Array {
  if (backendName === 'cpu') {
    const values = (backend as unknown as MathBackendCPU).data.get(t.dataId)?.values;
    if (!(values instanceof Float32Array)) throw new Error(`expected float32 values, got ${t.dtype}`);
    return values;
  }
  return (backend as unknown as BackendWasm).typedArrayFromHeap(t) as Float32Array;
}
