import * as tf from '@tensorflow/tfjs-core';
import { compareWithCpu, maxAbsDifference, seededTensor } from './testing/compare-with-cpu';
import { describeOnWebGpu } from './testing/webgpu-availability';

jest.setTimeout(60_000);

describeOnWebGpu('Cast to float32 on webgpu', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gives a one-hot label cast from int32 that Transpose and a Sum over spatial axes read correctly', async () => {
    // 2 x 12^3 labels: above tfjs's CPU hand-off size, so the cast runs on the GPU.
    const { cpu, webgpu, gpuErrors, dtype } = await compareWithCpu(() => {
      const labels = tf.cast(tf.greater(seededTensor([2, 12, 12, 12], 7), 0), 'int32') as tf.Tensor4D;
      const oneHot = tf.cast(tf.oneHot(labels, 2), 'float32');
      return tf.concat([
        tf.reshape(tf.transpose(oneHot, [4, 0, 1, 2, 3]), [-1]),
        tf.reshape(tf.sum(oneHot, [0, 1, 2, 3]), [-1]),
      ]);
    });
    expect(dtype).toBe('float32');
    expect(gpuErrors).toBe(0);
    expect(maxAbsDifference(webgpu, cpu)).toBe(0);
  });

  it('converts bool to float32 and leaves float32 -> int32 to the stock kernel', async () => {
    const { cpu, webgpu, gpuErrors } = await compareWithCpu(() =>
      tf.add(
        tf.cast(tf.greater(seededTensor([4, 16, 16], 8), 0), 'float32'),
        tf.cast(tf.cast(tf.mul(seededTensor([4, 16, 16], 9), 5), 'int32'), 'float32'),
      ),
    );
    expect(gpuErrors).toBe(0);
    expect(maxAbsDifference(webgpu, cpu)).toBe(0);
  });
});
