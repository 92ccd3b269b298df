import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient of Conv3DBackpropInputV2, the kernel behind tf.conv3dTranspose. tfjs 4.22 registers none, so the
 * decoder of a 3D U-Net (transposed-conv upsampling) could not train without this.
 *
 * The kernel computes x = A^T dy, where A is the linear map "conv3d with `filter`" (strides, pad) from
 * x-space to dy-space. For an upstream gradient g (shaped like x):
 *   d/d dy     <g, A^T dy> = A g            -> conv3d(g, filter)
 *   d/d filter <g, A^T dy> = <A g, dy>'_W   -> Conv3DBackpropFilterV2(x = g, dy = dy)
 * i.e. exactly the two halves of conv3d's own gradient with the roles of x and dy swapped.
 */
interface Conv3DBackpropInputV2Attrs {
  strides: [number, number, number] | number;
  pad: 'valid' | 'same';
  inputShape: [number, number, number, number, number];
}

export const conv3dBackpropInputV2GradConfig: tf.GradConfig = {
  kernelName: 'Conv3DBackpropInputV2',
  inputsToSave: ['dy', 'filter'],
  gradFunc: (g: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const { strides, pad } = attrs as unknown as Conv3DBackpropInputV2Attrs;
    const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
    const upstream = g as tf.Tensor5D;
    return {
      dy: () => tf.conv3d(upstream, filter, strides, pad),
      filter: () =>
        tf.engine().runKernel('Conv3DBackpropFilterV2', { x: upstream, dy }, {
          strides,
          pad,
          filterShape: filter.shape,
        } as unknown as tf.NamedAttrMap) as tf.Tensor5D,
    };
  },
};
