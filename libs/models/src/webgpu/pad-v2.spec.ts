import * as tf from '@tensorflow/tfjs-core';
import { compareWithCpu, maxAbsDifference, seededTensor } from './testing/compare-with-cpu';
import { describeOnWebGpu } from './testing/webgpu-availability';

jest.setTimeout(60_000);

/** Padding only moves values, so webgpu must equal cpu exactly (tolerance 0). */
describeOnWebGpu('PadV2 on webgpu', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it.each([
    [
      'rank 5 (NDHWC spatial padding)',
      [2, 3, 4, 5, 2],
      [
        [0, 0],
        [1, 2],
        [0, 1],
        [2, 0],
        [0, 0],
      ],
      0,
    ],
    [
      'rank 5 channel padding with a constant (the gradient of a channel slice)',
      [2, 4, 4, 4, 3],
      [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
        [2, 5],
      ],
      0.5,
    ],
    [
      'rank 6',
      [2, 2, 3, 2, 2, 2],
      [
        [1, 0],
        [0, 1],
        [0, 0],
        [1, 1],
        [0, 0],
        [0, 2],
      ],
      -1,
    ],
    [
      'rank 4 (handed to the stock kernel)',
      [3, 4, 4, 2],
      [
        [1, 0],
        [0, 2],
        [0, 0],
        [2, 3],
      ],
      0,
    ],
  ] as const)('equals cpu exactly for %s', async (_name, shape, paddings, value) => {
    const { cpu, webgpu, gpuErrors } = await compareWithCpu(() =>
      tf.pad(
        seededTensor([...shape], 3),
        paddings.map((p) => [...p] as [number, number]),
        value,
      ),
    );
    expect(gpuErrors).toBe(0);
    expect(webgpu.length).toBe(cpu.length);
    expect(maxAbsDifference(webgpu, cpu)).toBe(0);
  });

  it('gives the exact gradient of a 5-D slice (a pad of the upstream gradient)', async () => {
    const { cpu, webgpu, gpuErrors } = await compareWithCpu(() =>
      tf.grad((x: tf.Tensor) =>
        tf.sum(tf.mul(tf.slice(x, [0, 1, 0, 0, 2], [2, 3, 4, 4, 2]), seededTensor([2, 3, 4, 4, 2], 5))),
      )(seededTensor([2, 4, 4, 4, 6], 4)),
    );
    expect(gpuErrors).toBe(0);
    expect(maxAbsDifference(webgpu, cpu)).toBe(0);
  });
});
