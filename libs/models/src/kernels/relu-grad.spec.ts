import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// Registers tfjs's gradients, whose Relu formula is the reference here.
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeKernels } from './native-addon';
import { FEDSEG_RELU_GRAD } from './relu-grad';
import { registerFastKernels, restoreOriginalKernels } from './register';

/** The one-pass ReLU gradient equals tfjs-core's dy * step(x), bit for bit, special values included. */
const X = [-2, -0, 0, 1e-30, 3, NaN, -1, 2, 5, -Infinity, Infinity, 0.5];
const DY = [1, 2, 3, 4, Infinity, 6, NaN, -7, -Infinity, 8, 9, -0.25];

async function gradOn(backendName: string, fused: boolean, native = false): Promise<Float32Array> {
  await tf.setBackend(backendName);
  if (fused) await registerFastKernels(backendName, () => undefined, { native, simd: false });
  else restoreOriginalKernels(backendName);
  expect(tf.getKernel(FEDSEG_RELU_GRAD, backendName) !== undefined).toBe(fused);
  try {
    const x = tf.tensor(X, [2, 1, 2, 3, 1]);
    const dy = tf.tensor(DY, [2, 1, 2, 3, 1]);
    const dx = tf.grad((t: tf.Tensor) => tf.relu(t))(x, dy);
    const values = dx.dataSync() as Float32Array;
    tf.dispose([x, dy, dx]);
    return values;
  } finally {
    restoreOriginalKernels(backendName);
  }
}

// The addon's loop too, where it is built (skipped cleanly on machines without libdnnl-dev).
const engines = loadNativeKernels().kernels?.reluBackward ? [false, true] : [false];

describe('FedsegReluGrad', () => {
  for (const [backendName, native] of ['cpu', 'wasm'].flatMap((b) => engines.map((n) => [b, n] as const))) {
    it(`on ${backendName}${native ? ' with the addon' : ''}, gives what tfjs-core's Relu gradient gives, NaN and infinities included`, async () => {
      const fused = Array.from(await gradOn(backendName, true, native));
      const reference = Array.from(await gradOn(backendName, false));
      expect(fused).toEqual(reference);
      // And by hand: dy where x > 0, else dy * 0.
      expect(fused).toEqual(X.map((x, i) => (x > 0 ? DY[i]! : Number.isNaN(x) ? NaN : DY[i]! * 0)));
    });
  }
});
