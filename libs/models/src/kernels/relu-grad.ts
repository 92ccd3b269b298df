import * as tf from '@tensorflow/tfjs-core';
import { Relu, type GradConfig, type KernelConfig } from '@tensorflow/tfjs-core';
import { backendOf, inputOf, type KernelArgs } from './kernel-context';
import type { NativeKernels } from './native-addon';
import { allocateOutputs, type PortableBackendName } from './tensor-memory';

/** Kernel name of ReLU's gradient in one pass (ours). */
export const FEDSEG_RELU_GRAD = 'FedsegReluGrad';

/**
 * dx = dy * step(x), exactly as tfjs-core's Relu gradient computes it with three kernels (Step, Cast,
 * Multiply, each a full pass over a 7 MB activation of bench-unet3d): dy where x > 0, dy * 0 elsewhere
 * (0, or NaN where dy is not finite), NaN where x is NaN.
 */
export function reluGrad(dy: Float32Array, x: Float32Array, dx: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    // A multiply by 0 or 1 rather than a branch on the sign, which half the voxels take at random (twice as
    // fast in V8); v === v is false only for NaN.
    dx[i] = dy[i] * (v === v ? +(v > 0) : NaN);
  }
}

/** FedsegReluGrad (dy, x) -> dx, float32; in the addon when loaded (vectorized, both cores). */
export function reluGradKernel(backendName: PortableBackendName, native: NativeKernels | null): KernelConfig {
  return {
    kernelName: FEDSEG_RELU_GRAD,
    backendName,
    kernelFunc: (args: KernelArgs) => {
      const dy = inputOf(args, FEDSEG_RELU_GRAD, 'dy');
      const x = inputOf(args, FEDSEG_RELU_GRAD, 'x');
      const mem = allocateOutputs(backendName, backendOf(args), [dy, x], [x.shape]);
      if (!mem) throw new Error(`${FEDSEG_RELU_GRAD} needs float32 dy and x`);
      if (native?.reluBackward) native.reluBackward(mem.inputs[0], mem.inputs[1], mem.outValues[0]);
      else reluGrad(mem.inputs[0], mem.inputs[1], mem.outValues[0]);
      return mem.outs[0];
    },
  };
}

/**
 * Relu's gradient: one FedsegReluGrad kernel where the running backend has it (cpu and wasm after
 * registerFastKernels), else tfjs-core's own formula, so every other backend computes what it did.
 * Registered globally by registerFastKernels (gradients are not per backend).
 */
export const reluGradConfig: GradConfig = {
  kernelName: Relu,
  inputsToSave: ['x'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
    const [x] = saved;
    const g = Array.isArray(dy) ? dy[0]! : dy;
    const fused =
      x!.dtype === 'float32' &&
      g.dtype === 'float32' &&
      tf.getKernel(FEDSEG_RELU_GRAD, tf.getBackend()) !== undefined;
    return {
      x: () =>
        fused
          ? (tf.engine().runKernel(FEDSEG_RELU_GRAD, { dy: g, x: x! }, {}) as tf.Tensor)
          : tf.mul(g, tf.cast(tf.step(x!), 'float32')),
    };
  },
};
