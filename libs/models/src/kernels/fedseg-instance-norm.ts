import type { KernelConfig } from '@tensorflow/tfjs-core';
import { instanceNormBackward, instanceNormForward } from './instance-norm-loops';
import { backendOf, inputOf, type KernelArgs } from './kernel-context';
import type { NativeKernels } from './native-addon';
import { allocateOutputs, type PortableBackendName } from './tensor-memory';
import type { WasmSimdKernels } from './wasm-simd-kernels';

/** Kernel names of the fused instance normalization (ours; tfjs has none). */
export const FEDSEG_INSTANCE_NORM = 'FedsegInstanceNorm';
export const FEDSEG_INSTANCE_NORM_GRAD = 'FedsegInstanceNormGrad';

export interface InstanceNormAttrs {
  epsilon: number;
}

/** x [N, D, H, W, C] -> y and each shape as [N, S, C]. */
function dims(shape: readonly number[]): { n: number; s: number; c: number } {
  const n = shape[0];
  const c = shape[shape.length - 1];
  let s = 1;
  for (let i = 1; i < shape.length - 1; i++) s *= shape[i];
  return { n, s, c };
}

/**
 * FedsegInstanceNorm (x, gamma, beta) -> [y, stats [N, C, 2]]; in the addon when loaded (vectorized, a thread
 * per sample), else on wasm in the SIMD module (in place on the heap), else plain loops. On cpu the module
 * would need copies in and out of its memory, which cost about what the loops do.
 */
export function instanceNormKernel(
  backendName: PortableBackendName,
  native: NativeKernels | null,
  simd: WasmSimdKernels | null = null,
): KernelConfig {
  const inModule = backendName === 'wasm' ? simd : null;
  return {
    kernelName: FEDSEG_INSTANCE_NORM,
    backendName,
    kernelFunc: (args: KernelArgs) => {
      const x = inputOf(args, FEDSEG_INSTANCE_NORM, 'x');
      const gamma = inputOf(args, FEDSEG_INSTANCE_NORM, 'gamma');
      const beta = inputOf(args, FEDSEG_INSTANCE_NORM, 'beta');
      const { epsilon } = args.attrs as unknown as InstanceNormAttrs;
      const { n, s, c } = dims(x.shape);
      const mem = allocateOutputs(backendName, backendOf(args), [x, gamma, beta], [x.shape, [n, c, 2]]);
      if (!mem) throw new Error(`${FEDSEG_INSTANCE_NORM} needs float32 inputs, got ${x.dtype}`);
      const [xV, gammaV, betaV] = mem.inputs;
      const [y, stats] = mem.outValues;
      if (native) native.instanceNormForward(xV, gammaV, betaV, Int32Array.of(n, s, c), epsilon, y, stats);
      else if (
        !inModule?.instanceNormForward(
          backendName,
          backendOf(args),
          { x: xV, gamma: gammaV, beta: betaV, y, stats },
          { n, s, c },
          epsilon,
        )
      )
        instanceNormForward(xV, gammaV, betaV, n, s, c, epsilon, y, stats);
      return mem.outs;
    },
  };
}

/** FedsegInstanceNormGrad (dy, x, gamma, stats) -> [dx, dGamma, dBeta]. */
export function instanceNormGradKernel(
  backendName: PortableBackendName,
  native: NativeKernels | null,
  simd: WasmSimdKernels | null = null,
): KernelConfig {
  const inModule = backendName === 'wasm' ? simd : null;
  return {
    kernelName: FEDSEG_INSTANCE_NORM_GRAD,
    backendName,
    kernelFunc: (args: KernelArgs) => {
      const names = ['dy', 'x', 'gamma', 'stats'];
      const [dy, x, gamma, stats] = names.map((name) => inputOf(args, FEDSEG_INSTANCE_NORM_GRAD, name));
      const { n, s, c } = dims(x.shape);
      const mem = allocateOutputs(backendName, backendOf(args), [dy, x, gamma, stats], [x.shape, [c], [c]]);
      if (!mem) throw new Error(`${FEDSEG_INSTANCE_NORM_GRAD} needs float32 inputs`);
      const [dyV, xV, gammaV, statsV] = mem.inputs;
      const [dx, dGamma, dBeta] = mem.outValues;
      if (native)
        native.instanceNormBackward(dyV, xV, gammaV, statsV, Int32Array.of(n, s, c), dx, dGamma, dBeta);
      else if (
        !inModule?.instanceNormBackward(
          backendName,
          backendOf(args),
          { dy: dyV, x: xV, gamma: gammaV, stats: statsV, dx, dGamma, dBeta },
          { n, s, c },
        )
      )
        instanceNormBackward(dyV, xV, gammaV, statsV, n, s, c, dx, dGamma, dBeta);
      return mem.outs;
    },
  };
}
