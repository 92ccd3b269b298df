import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../backend/init-backend';
import { webGpuDeviceErrors } from '../../backend/webgpu-backend';
import { seededRandom } from '../../util/seeded-random';

/** A seeded tensor with entries uniform in [-1, 1): the same numbers on every backend. */
export function seededTensor(shape: number[], seed: number): tf.Tensor {
  const rng = seededRandom(seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng.next() - 1),
    shape,
  );
}

/**
 * Runs `build` on the cpu backend (the reference) and on webgpu and returns both results as arrays, plus
 * how many WebGPU errors (shaders that failed to compile: silently zero outputs) the webgpu run raised.
 */
export async function compareWithCpu(
  build: () => tf.Tensor,
): Promise<{ cpu: Float32Array; webgpu: Float32Array; gpuErrors: number; dtype: string }> {
  await initBackend('cpu', { fastKernels: false });
  const c = tf.tidy(build);
  const cpu = Float32Array.from(await c.data());
  c.dispose();
  await initBackend('webgpu');
  const errorsBefore = webGpuDeviceErrors().count;
  const g = tf.tidy(build);
  const webgpu = Float32Array.from(await g.data());
  const dtype = g.dtype;
  g.dispose();
  return { cpu, webgpu, gpuErrors: webGpuDeviceErrors().count - errorsBefore, dtype };
}

/** Largest |a - b| over the arrays (Infinity when lengths differ). */
export function maxAbsDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}
