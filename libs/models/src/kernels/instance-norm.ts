import * as tf from '@tensorflow/tfjs-core';
import { FEDSEG_INSTANCE_NORM, FEDSEG_INSTANCE_NORM_GRAD } from './fedseg-instance-norm';

/** The same math from tfjs ops, for backends without the fused kernels (webgpu, tensorflow). */
function composite(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, [1, 2, 3], true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon))), gamma), beta);
  });
}

/**
 * Instance normalization of an NDHWC volume with per-channel affine gamma and beta (1-D, length C):
 * y = gamma * (x - mean) / sqrt(var + epsilon) + beta, statistics per sample and channel over D, H, W.
 * On cpu and wasm with registerFastKernels it runs as two fused kernels (forward, gradient) in two passes
 * each; elsewhere it is the composite of tfjs ops. Differentiable in x, gamma and beta either way.
 */
export function instanceNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon = 1e-5): tf.Tensor {
  const backendName = tf.getBackend();
  const fused =
    x.rank === 5 &&
    x.dtype === 'float32' &&
    tf.getKernel(FEDSEG_INSTANCE_NORM, backendName) !== undefined &&
    tf.getKernel(FEDSEG_INSTANCE_NORM_GRAD, backendName) !== undefined;
  if (!fused) return composite(x, gamma, beta, epsilon);
  const run = tf.customGrad((...args: (tf.Tensor | ((saved: tf.Tensor[]) => void))[]) => {
    const [input, g, b] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as (saved: tf.Tensor[]) => void;
    const [y, stats] = tf
      .engine()
      .runKernel(FEDSEG_INSTANCE_NORM, { x: input, gamma: g, beta: b }, { epsilon }) as tf.Tensor[];
    save([input, g, stats]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [savedX, savedGamma, savedStats] = saved;
        const dyT = Array.isArray(dy) ? dy[0] : dy;
        return tf
          .engine()
          .runKernel(
            FEDSEG_INSTANCE_NORM_GRAD,
            { dy: dyT, x: savedX, gamma: savedGamma, stats: savedStats },
            {},
          ) as tf.Tensor[];
      },
    };
  });
  return run(x, gamma, beta);
}
