import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { instanceNorm, registerFastKernels } from '../libs/models/src/kernels';
import { median, startableBackends } from './bench-util';
async function main(): Promise<void> {
  await startableBackends(['wasm']);
  await tf.setBackend('wasm');
  await registerFastKernels('wasm');
  const x = tf.randomNormal([2, 48, 48, 48, 8]);
  const g = tf.variable(tf.ones([8])), b = tf.variable(tf.zeros([8]));
  const composite = (t: tf.Tensor): tf.Tensor => { const { mean, variance } = tf.moments(t, [1, 2, 3], true); return tf.add(tf.mul(tf.mul(tf.sub(t, mean), tf.rsqrt(tf.add(variance, 1e-5))), g), b); };
  for (const [name, f] of [['composite', composite], ['fused', (t: tf.Tensor) => instanceNorm(t, g, b)]] as const) {
    const times: number[] = [];
    for (let r = 0; r < 7; r++) {
      const t0 = performance.now();
      const grads = tf.grads((t: tf.Tensor) => tf.sum(tf.mul(f(t), x)))([x]);
      await grads[0].data(); tf.dispose(grads);
      times.push(performance.now() - t0);
    }
    console.log(name, median(times).toFixed(1), 'ms fwd+bwd 2x48^3x8');
  }
}
void main();
