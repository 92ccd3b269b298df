import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { adam } from '../training/optimizer';
import { seededRandom } from '../util/seeded-random';
import { FEDSEG_ADAM } from './fedseg-adam';
import { registerFastKernels, restoreOriginalKernels } from './register';

/**
 * The fused Adam kernel against Kingma & Ba's Algorithm 1 written out in float64 here (the independent
 * reference), over a few steps with a changing learning rate (as the poly schedule does), on cpu and wasm.
 */
const STEPS = 4;
const SHAPES = [[3, 3, 3, 2, 4], [5], [1]];

function reference(w0: Float64Array[], grads: Float64Array[][], rates: number[]): Float64Array[] {
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  const w = w0.map((x) => Float64Array.from(x));
  const m = w0.map((x) => new Float64Array(x.length));
  const v = w0.map((x) => new Float64Array(x.length));
  for (let t = 1; t <= grads.length; t++) {
    for (let k = 0; k < w.length; k++) {
      for (let i = 0; i < w[k].length; i++) {
        const g = grads[t - 1][k][i];
        m[k][i] = beta1 * m[k][i] + (1 - beta1) * g;
        v[k][i] = beta2 * v[k][i] + (1 - beta2) * g * g;
        const mHat = m[k][i] / (1 - beta1 ** t);
        const vHat = v[k][i] / (1 - beta2 ** t);
        w[k][i] -= (rates[t - 1] * mHat) / (Math.sqrt(vHat) + eps);
      }
    }
  }
  return w;
}

function data(seed: number): { w0: Float64Array[]; grads: Float64Array[][]; rates: number[] } {
  const rng = seededRandom(seed);
  const draw = (n: number, scale: number): Float64Array =>
    Float64Array.from({ length: n }, () => Math.fround((rng.next() * 2 - 1) * scale));
  const sizes = SHAPES.map((s) => s.reduce((a, b) => a * b, 1));
  return {
    w0: sizes.map((n) => draw(n, 1)),
    // Gradients over several magnitudes, so both the m and the sqrt(v) terms matter.
    grads: Array.from({ length: STEPS }, (_, t) => sizes.map((n) => draw(n, 10 ** (t - 2)))),
    rates: Array.from({ length: STEPS }, (_, t) => 1e-2 * (1 - t / STEPS) ** 0.9),
  };
}

async function train(backendName: string, fused: boolean, seed: number): Promise<Float32Array[]> {
  await tf.setBackend(backendName);
  if (fused) await registerFastKernels(backendName, () => undefined, { native: false, simd: false });
  else restoreOriginalKernels(backendName);
  expect(tf.getKernel(FEDSEG_ADAM, backendName) !== undefined).toBe(fused);
  const { w0, grads, rates } = data(seed);
  const variables = w0.map((w, k) => tf.variable(tf.tensor(Float32Array.from(w), SHAPES[k])));
  const optimizer = adam();
  try {
    for (let t = 0; t < STEPS; t++) {
      const g = grads[t].map((x, k) => tf.tensor(Float32Array.from(x), SHAPES[k]));
      optimizer.step(variables, g, rates[t]);
      tf.dispose(g);
    }
    return variables.map((v) => v.dataSync() as Float32Array);
  } finally {
    optimizer.dispose();
    tf.dispose(variables);
    restoreOriginalKernels(backendName);
  }
}

describe('FedsegAdam', () => {
  for (const backendName of ['cpu', 'wasm']) {
    it(`on ${backendName}, matches Adam computed in float64 over ${STEPS} steps, as the composite does`, async () => {
      const { w0, grads, rates } = data(7);
      const expected = reference(w0, grads, rates);
      for (const fused of [true, false]) {
        const actual = await train(backendName, fused, 7);
        actual.forEach((values, k) => {
          for (let i = 0; i < values.length; i++) {
            // A step moves each weight by at most about lr; float32 keeps ~1e-7 of the weight.
            expect(Math.abs(values[i] - expected[k][i])).toBeLessThan(2e-6);
          }
        });
      }
    });
  }

  it('leaves no tensors behind but the variables and their moments, and none after dispose', async () => {
    await tf.setBackend('cpu');
    await registerFastKernels('cpu', () => undefined, { native: false, simd: false });
    const before = tf.memory().numTensors;
    const init = tf.ones([4]);
    const variable = tf.variable(init);
    init.dispose();
    const optimizer = adam();
    const g = tf.fill([4], 0.5);
    optimizer.step([variable], [g], 0.1);
    optimizer.step([variable], [g], 0.1);
    expect(tf.memory().numTensors - before).toBe(4); // variable, g, m, v
    optimizer.dispose();
    tf.dispose([variable, g]);
    expect(tf.memory().numTensors).toBe(before);
    restoreOriginalKernels('cpu');
  });
});
