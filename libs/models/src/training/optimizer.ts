import * as tf from '@tensorflow/tfjs-core';
import type { NamedAttrMap } from '@tensorflow/tfjs-core';
import { FEDSEG_ADAM, type AdamAttrs } from '../kernels/fedseg-adam';

/**
 * Optimizers over a fixed list of variables whose learning rate can change every step (the poly schedule),
 * which tfjs's own optimizers only allow through protected fields. State lives in tensors created here and
 * released by dispose(), so one local-training run never leaks.
 */
export interface Optimizer {
  step(variables: readonly tf.Variable[], grads: readonly tf.Tensor[], learningRate: number): void;
  dispose(): void;
}

/**
 * Adam (Kingma & Ba, 2015) with bias correction; beta1 0.9, beta2 0.999, eps 1e-8 (the paper's defaults).
 * On cpu and wasm with registerFastKernels each variable takes one fused kernel (kernels/fedseg-adam.ts)
 * instead of about 12 tfjs ops; elsewhere the same formula in tfjs ops.
 */
export function adam(beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8): Optimizer {
  const m: tf.Tensor[] = [];
  const v: tf.Tensor[] = [];
  let t = 0;
  const fusedStep = (variable: tf.Variable, i: number, g: tf.Tensor, attrs: AdamAttrs): void => {
    // Zero moments give the first step's m = (1 - beta1) g exactly, as the composite's first step.
    m[i] ??= tf.zerosLike(variable);
    v[i] ??= tf.zerosLike(variable);
    const [next, mi, vi] = tf
      .engine()
      .runKernel(
        FEDSEG_ADAM,
        { variable, m: m[i]!, v: v[i]!, grad: g },
        attrs as unknown as NamedAttrMap,
      ) as tf.Tensor[];
    m[i]!.dispose();
    v[i]!.dispose();
    m[i] = mi!;
    v[i] = vi!;
    variable.assign(next!);
    next!.dispose();
  };
  return {
    step(variables, grads, learningRate) {
      t += 1;
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      const fused = tf.getKernel(FEDSEG_ADAM, tf.getBackend()) !== undefined;
      variables.forEach((variable, i) => {
        const g = grads[i]!;
        if (fused && variable.dtype === 'float32' && g.dtype === 'float32') {
          fusedStep(variable, i, g, { learningRate, beta1, beta2, epsilon, c1, c2 });
          return;
        }
        const [mi, vi] = tf.tidy(() => [
          m[i] ? tf.add(tf.mul(m[i]!, beta1), tf.mul(g, 1 - beta1)) : tf.mul(g, 1 - beta1),
          v[i]
            ? tf.add(tf.mul(v[i]!, beta2), tf.mul(tf.square(g), 1 - beta2))
            : tf.mul(tf.square(g), 1 - beta2),
        ]);
        m[i]?.dispose();
        v[i]?.dispose();
        m[i] = mi!;
        v[i] = vi!;
        const next = tf.tidy(() =>
          tf.sub(variable, tf.div(tf.mul(mi!, learningRate / c1), tf.add(tf.sqrt(tf.div(vi!, c2)), epsilon))),
        );
        variable.assign(next);
        next.dispose();
      });
    },
    dispose() {
      for (const x of [...m, ...v]) x.dispose();
      m.length = 0;
      v.length = 0;
    },
  };
}

/** SGD with heavy-ball momentum, PyTorch's convention: buf = mu*buf + g; w -= lr*buf. */
export function sgdMomentum(momentum: number): Optimizer {
  const buffers: tf.Tensor[] = [];
  return {
    step(variables, grads, learningRate) {
      variables.forEach((variable, i) => {
        const g = grads[i]!;
        const buf = tf.tidy(() =>
          buffers[i] && momentum > 0 ? tf.add(tf.mul(buffers[i]!, momentum), g) : tf.clone(g),
        );
        buffers[i]?.dispose();
        buffers[i] = buf;
        const next = tf.tidy(() => tf.sub(variable, tf.mul(buf, learningRate)));
        variable.assign(next);
        next.dispose();
      });
    },
    dispose() {
      for (const x of buffers) x.dispose();
      buffers.length = 0;
    },
  };
}
