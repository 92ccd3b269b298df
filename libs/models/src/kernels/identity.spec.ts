import '@tensorflow/tfjs-backend-wasm';
// Registers tfjs's gradients (variableGrads below).
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { registerFastKernels, restoreOriginalKernels } from './register';

/** The wasm Identity shares memory by reference count: each clone outlives the others' disposal. */
describe('Identity on wasm', () => {
  beforeAll(async () => {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    await tf.setBackend('wasm');
    await registerFastKernels('wasm', () => undefined, { native: false, simd: false });
  });
  afterAll(() => restoreOriginalKernels('wasm'));

  it('returns the same values without a copy, and frees the memory when the last clone goes', () => {
    const before = tf.memory().numDataBuffers;
    const a = tf.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tf.clone(a);
    const c = tf.clone(b);
    // One data buffer for the three tensors.
    expect(tf.memory().numDataBuffers - before).toBe(1);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    b.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(c.shape).toEqual([2, 3]);
    c.dispose();
    expect(tf.memory().numDataBuffers).toBe(before);
  });

  it('keeps a variable and the gradient inputs it saved apart after assign', () => {
    const v = tf.variable(tf.tensor([1, 2, 3]));
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(v, v)) as tf.Scalar, [v]);
    v.assign(tf.tensor([10, 20, 30]));
    expect(Array.from(grads[v.name]!.dataSync())).toEqual([2, 4, 6]);
    expect(value.dataSync()[0]).toBe(14);
    expect(Array.from(v.dataSync())).toEqual([10, 20, 30]);
    tf.dispose([v, value, ...Object.values(grads)]);
  });
});
