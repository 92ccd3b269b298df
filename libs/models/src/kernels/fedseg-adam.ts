import type { KernelConfig } from '@tensorflow/tfjs-core';
import { backendOf, inputOf, type KernelArgs } from './kernel-context';
import { allocateOutputs, type PortableBackendName } from './tensor-memory';

/** Kernel name of the fused Adam update (ours; tfjs's optimizers compose it from about 12 ops). */
export const FEDSEG_ADAM = 'FedsegAdam';

export interface AdamAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Bias corrections 1 - beta1^t and 1 - beta2^t of this step. */
  c1: number;
  c2: number;
}

/**
 * One Adam step (Kingma & Ba, 2015, Algorithm 1, with the bias corrections applied to m and v):
 *   m' = beta1 m + (1 - beta1) g;   v' = beta2 v + (1 - beta2) g^2
 *   w' = w - (lr / c1) m' / (sqrt(v' / c2) + eps)
 * in one pass over the four arrays; each value is rounded to float32 once, where the composite rounds
 * after every op. On bench-unet3d's 23 variables the composite was about 280 kernel calls a step (60 ms
 * of a 670 ms step on wasm, npm run bench -- train-profile), nearly all of it per-call overhead.
 */
export function adamUpdate(
  w: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  attrs: AdamAttrs,
  out: { w: Float32Array; m: Float32Array; v: Float32Array },
): void {
  const { learningRate, beta1, beta2, epsilon, c1, c2 } = attrs;
  const step = learningRate / c1;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    const mi = beta1 * m[i] + (1 - beta1) * gi;
    const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
    out.m[i] = mi;
    out.v[i] = vi;
    out.w[i] = w[i] - (step * mi) / (Math.sqrt(vi / c2) + epsilon);
  }
}

/** FedsegAdam (variable, m, v, grad) -> [variable', m', v'], same shapes, float32. */
export function adamKernel(backendName: PortableBackendName): KernelConfig {
  return {
    kernelName: FEDSEG_ADAM,
    backendName,
    kernelFunc: (args: KernelArgs) => {
      const names = ['variable', 'm', 'v', 'grad'];
      const inputs = names.map((name) => inputOf(args, FEDSEG_ADAM, name));
      const shape = inputs[0].shape;
      for (const [i, t] of inputs.entries()) {
        if (t.shape.join('x') !== shape.join('x'))
          throw new Error(
            `${FEDSEG_ADAM}: ${names[i]} is ${t.shape.join('x')}, variable is ${shape.join('x')}`,
          );
      }
      const mem = allocateOutputs(backendName, backendOf(args), inputs, [shape, shape, shape]);
      if (!mem) throw new Error(`${FEDSEG_ADAM} needs float32 inputs`);
      const [w, m, v, g] = mem.inputs;
      const [wOut, mOut, vOut] = mem.outValues;
      adamUpdate(w, m, v, g, args.attrs as unknown as AdamAttrs, { w: wOut, m: mOut, v: vOut });
      return mem.outs;
    },
  };
}
