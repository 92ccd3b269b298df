import * as tf from '@tensorflow/tfjs-core';
import { registerFastKernels, restoreOriginalKernels, type FastKernelOptions } from './register';

/**
 * Helpers for the kernel specs: run the same computation on a backend with its own kernels or with ours,
 * and compare within float32 tolerance. Not imported by library code.
 */

/** Runs `fn` on `backendName` with its fast kernels or its own, and returns plain copies of the outputs. */
export async function runOn(
  backendName: string,
  fast: boolean,
  fn: () => tf.Tensor[],
  options: FastKernelOptions = {},
): Promise<tf.Tensor[]> {
  await tf.setBackend(backendName);
  if (fast) await registerFastKernels(backendName, () => undefined, options);
  try {
    const outputs = fn();
    const copies = outputs.map((t) => ({ shape: t.shape, dtype: t.dtype, values: t.dataSync().slice() }));
    tf.dispose(outputs);
    return copies.map((c) => tf.tensor(c.values, c.shape, c.dtype));
  } finally {
    if (fast) restoreOriginalKernels(backendName);
  }
}

/** Max abs difference within `relative` of the largest expected magnitude (and no NaN where none was). */
export function expectClose(actual: tf.Tensor, expected: tf.Tensor, what: string, relative = 1e-5): void {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let scale = 0;
  for (let i = 0; i < e.length; i++) scale = Math.max(scale, Math.abs(e[i]));
  const tolerance = relative * Math.max(1, scale) + 1e-6;
  let worst = 0;
  for (let i = 0; i < e.length; i++) {
    const diff = Math.abs(a[i] - e[i]);
    worst = Number.isNaN(diff) && !Number.isNaN(e[i]) ? Infinity : Math.max(worst, diff || 0);
  }
  if (worst > tolerance) throw new Error(`${what}: max abs error ${worst} > ${tolerance}`);
}

type Shape5 = [number, number, number, number, number];

/** One Conv3D case of the kernel specs: input and filter shapes (NDHWC, DHWIO), strides, padding. */
export interface Conv3dCase {
  name: string;
  x: Shape5;
  filter: Shape5;
  stride: number | [number, number, number];
  pad: 'same' | 'valid';
  dilation?: number;
}

/**
 * Conv3D forward and both backprops for one case on the current backend, from seeded random inputs (a dilated
 * case has no filter gradient in tfjs: a placeholder stands in for it).
 */
export function runConv3dKernels(c: Conv3dCase, seed: number): tf.Tensor[] {
  return tf.tidy(() => {
    const x = tf.randomNormal(c.x, 0, 1, 'float32', seed) as tf.Tensor5D;
    const filter = tf.randomNormal(c.filter, 0, 1, 'float32', seed + 1) as tf.Tensor5D;
    const y = tf.conv3d(x, filter, c.stride, c.pad, 'NDHWC', c.dilation ?? 1);
    const dy = tf.randomNormal(y.shape, 0, 1, 'float32', seed + 2) as tf.Tensor5D;
    const dx = tf
      .engine()
      .runKernel(
        tf.Conv3DBackpropInputV2,
        { dy, filter },
        { strides: c.stride, pad: c.pad, inputShape: c.x },
      ) as tf.Tensor;
    const dFilter = c.dilation
      ? tf.zeros([1])
      : (tf
          .engine()
          .runKernel(
            tf.Conv3DBackpropFilterV2,
            { x, dy },
            { strides: c.stride, pad: c.pad, filterShape: c.filter },
          ) as tf.Tensor);
    return [y, dx, dFilter];
  });
}
