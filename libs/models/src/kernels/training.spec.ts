import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { instanceNorm } from './instance-norm';
import { registerFastKernels, restoreOriginalKernels, type FastKernelOptions } from './register';

/**
 * A short training run of a small 3D U-Net-shaped network (conv, instance norm fused and composed, max-pool,
 * strided transposed conv, channel concat, softmax loss, Adam) converges the same with the fast kernels
 * as with the cpu backend's own kernels: same losses step by step, within float32 drift.
 */
const STEPS = 12;

function trainLosses(): number[] {
  const seeded = (shape: number[], seed: number, scale: number): tf.Variable =>
    tf.variable(tf.mul(tf.randomUniform(shape, -1, 1, 'float32', seed), scale));
  const w1 = seeded([3, 3, 3, 1, 4], 1, 0.5);
  const w2 = seeded([3, 3, 3, 4, 8], 2, 0.3);
  const up = seeded([2, 2, 2, 4, 8], 3, 0.3);
  const w3 = seeded([3, 3, 3, 8, 4], 4, 0.3);
  const head = seeded([1, 1, 1, 4, 2], 5, 0.5);
  const x = tf.randomNormal([2, 8, 8, 8, 1], 0, 1, 'float32', 6) as tf.Tensor5D;
  // Target: voxels brighter than their neighbourhood (a task the network can learn quickly).
  const target = tf.tidy(() =>
    tf.oneHot(tf.reshape(tf.cast(tf.greater(x, tf.avgPool3d(x, 3, 1, 'same')), 'int32'), [2, 8, 8, 8]), 2),
  );
  const gamma = tf.variable(tf.ones([4]));
  const beta = tf.variable(tf.zeros([4]));
  // The fused instance norm on one level, the composite of tfjs ops on the others.
  const norm = (t: tf.Tensor5D, fused = false): tf.Tensor5D => {
    if (fused) return tf.relu(instanceNorm(t, gamma, beta)) as tf.Tensor5D;
    const { mean, variance } = tf.moments(t, [1, 2, 3], true);
    return tf.relu(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-5)))) as tf.Tensor5D;
  };
  const optimizer = tf.train.adam(0.01);
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    const loss = optimizer.minimize(() => {
      const e1 = norm(tf.conv3d(x, w1 as tf.Tensor5D, 1, 'same'), true);
      const e2 = norm(tf.conv3d(tf.maxPool3d(e1, 2, 2, 'valid'), w2 as tf.Tensor5D, 1, 'same'));
      const u = tf.conv3dTranspose(e2, up as tf.Tensor5D, [2, 8, 8, 8, 4], 2, 'same');
      const d = norm(tf.conv3d(tf.concat([u, e1], -1), w3 as tf.Tensor5D, 1, 'same'));
      const logits = tf.conv3d(d, head as tf.Tensor5D, 1, 'valid');
      return tf.losses.softmaxCrossEntropy(target, logits) as tf.Scalar;
    }, true);
    losses.push(loss?.dataSync()[0] ?? NaN);
    loss?.dispose();
  }
  tf.dispose([w1, w2, up, w3, head, gamma, beta, x, target]);
  optimizer.dispose();
  return losses;
}

async function lossesOn(
  backendName: string,
  fast: boolean,
  options: FastKernelOptions = {},
): Promise<number[]> {
  await tf.setBackend(backendName);
  if (fast) await registerFastKernels(backendName, () => undefined, options);
  try {
    return trainLosses();
  } finally {
    if (fast) restoreOriginalKernels(backendName);
  }
}

describe('training with the fast kernels', () => {
  // tfjs has no gradient for conv3dTranspose (Conv3DBackpropInputV2); libs/models registers one. This
  // spec must not depend on the rest of the library, so it registers the same math locally when missing.
  beforeAll(() => {
    if (tf.getGradient(tf.Conv3DBackpropInputV2)) return;
    tf.registerGradient({
      kernelName: tf.Conv3DBackpropInputV2,
      inputsToSave: ['dy', 'filter'],
      gradFunc: (ddx, saved, attrs) => {
        const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
        const g = ddx as tf.Tensor5D;
        const { strides, pad } = attrs as unknown as tf.Conv3DBackpropInputV2Attrs;
        return {
          dy: () => tf.conv3d(g, filter, strides, pad),
          // dx = A_f^T dy is bilinear in (dy, f): d<ddx, A_f^T dy>/df = d<A_f ddx, dy>/df.
          filter: () =>
            tf
              .engine()
              .runKernel(
                tf.Conv3DBackpropFilterV2,
                { x: g, dy },
                { strides, pad, filterShape: filter.shape },
              ) as tf.Tensor,
        };
      },
    });
  });

  let reference: number[];
  beforeAll(async () => {
    reference = await lossesOn('cpu', false);
  });

  it('learns in the reference run (the task is not trivial)', () => {
    expect(reference[STEPS - 1]).toBeLessThan(0.9 * reference[0]);
  });

  it.each([
    ['cpu', true],
    ['wasm', true],
    ['cpu', false],
    ['wasm', false],
  ] as const)('follows the same loss curve on %s (addon allowed: %s)', async (backendName, native) => {
    const losses = await lossesOn(backendName, true, { native });
    losses.forEach((loss, i) =>
      expect(Math.abs(loss - reference[i])).toBeLessThan(1e-3 * Math.max(1, reference[i])),
    );
  });
});
