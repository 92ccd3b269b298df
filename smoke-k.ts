import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './libs/models/src/backend/init-backend';
(async () => {
  const run = async (b: 'wasm' | 'cpu') => {
    await initBackend(b, { fastKernels: false });
    return tf.tidy(() => {
      const x = tf.tensor5d(Array.from({ length: 1 * 4 * 4 * 4 * 2 }, (_, i) => Math.sin(i)), [1, 4, 4, 4, 2]);
      const w = tf.tensor5d(Array.from({ length: 2 * 2 * 2 * 2 * 3 }, (_, i) => Math.cos(i)), [2, 2, 2, 2, 3]);
      const dy = tf.tensor5d(Array.from({ length: 1 * 2 * 2 * 2 * 3 }, (_, i) => Math.cos(3 * i)), [1, 2, 2, 2, 3]);
      const y = tf.conv3d(x, w, 2, 'same');
      const dx = tf.conv3dTranspose(dy, w, [1, 4, 4, 4, 2], 2, 'same');
      const dw = tf.engine().runKernel('Conv3DBackpropFilterV2', { x, dy }, { strides: 2, pad: 'same', filterShape: [2, 2, 2, 2, 3] } as unknown as tf.NamedAttrMap) as tf.Tensor;
      return [y, dx, dw].map((t) => Array.from(t.dataSync()));
    });
  };
  const c = await run('cpu');
  const w = await run('wasm');
  ['conv3d', 'backpropInput', 'backpropFilter'].forEach((n, i) => console.log(n, Math.max(...c[i]!.map((v, j) => Math.abs(v - w[i]![j]!)))));
})();
