import * as tf from '@tensorflow/tfjs-core';
import { compareWithCpu, maxAbsDifference, seededTensor } from './testing/compare-with-cpu';
import { describeOnWebGpu } from './testing/webgpu-availability';

jest.setTimeout(60_000);

/**
 * A 5-D activation against a 1-D per-channel vector (bias, gamma, beta), both operand orders. One float32
 * operation per element on both backends: equal within 1 ulp-ish (1e-6 absolute on values of order 1;
 * RealDiv by values near 0 is avoided by offsetting the divisor).
 */
describeOnWebGpu('broadcasting binary ops with a 1-D operand on webgpu', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['mul', tf.mul],
    ['sub', tf.sub],
    ['div', (a, b) => tf.div(a, tf.add(tf.abs(b), 1))],
    ['maximum', tf.maximum],
    ['squaredDifference', tf.squaredDifference],
  ];

  it.each(ops)('%s of [2,4,4,4,C] and [C] equals cpu, both orders, C = 3 and 16', async (_name, op) => {
    for (const channels of [3, 16]) {
      const x = (): tf.Tensor => seededTensor([2, 4, 4, 4, channels], 1);
      const v = (): tf.Tensor => seededTensor([channels], 2);
      for (const build of [() => op(x(), v()), () => op(v(), x())]) {
        const { cpu, webgpu, gpuErrors } = await compareWithCpu(build);
        expect(gpuErrors).toBe(0);
        expect(maxAbsDifference(webgpu, cpu)).toBeLessThan(1e-6);
      }
    }
  });
});
