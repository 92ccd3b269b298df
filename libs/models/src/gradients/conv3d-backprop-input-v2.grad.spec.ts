import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/init-backend';
import { centralDifference, relativeError } from '../testing/finite-difference';
import { seededRandom } from '../util/seeded-random';

/**
 * conv3dTranspose's gradients (registered by this library) against central finite differences of
 * f(dy, W) = sum(R * conv3dTranspose(dy, W)) with a fixed random R. f is linear in each argument, so the
 * central difference has no truncation error and h = 1e-2 leaves only float32 rounding (~1e-5 relative).
 */
const random = (n: number, seed: number): Float32Array => {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.next() - 1);
};

const cases = [
  {
    name: 'stride 2, kernel 2 (U-Net upsampling)',
    dy: [1, 2, 2, 2, 3],
    filter: [2, 2, 2, 2, 3],
    out: [1, 4, 4, 4, 2],
    stride: 2,
  },
  {
    name: 'stride 1, kernel 3, same padding',
    dy: [1, 3, 3, 2, 2],
    filter: [3, 3, 3, 2, 2],
    out: [1, 3, 3, 2, 2],
    stride: 1,
  },
  {
    name: 'stride 2, kernel 3, odd output',
    dy: [2, 2, 2, 2, 2],
    filter: [3, 3, 3, 1, 2],
    out: [2, 3, 4, 3, 1],
    stride: 2,
  },
] as const;

// Stock tfjs kernels, then with this build's fast kernels (when present) underneath the same gradient.
describe.each([
  ['wasm', false],
  ['cpu', false],
  ['wasm', true],
  ['cpu', true],
] as const)('conv3dTranspose gradient on %s (fast kernels: %s)', (backend, fastKernels) => {
  beforeAll(async () => {
    expect((await initBackend(backend, { fastKernels })).name).toBe(backend);
  });

  it.each(cases)('matches central finite differences for $name (relative error < 1e-2)', (c) => {
    const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
    const dy0 = random(size(c.dy), 1);
    const w0 = random(size(c.filter), 2);
    const r = tf.tensor(random(size(c.out), 3), [...c.out]);
    const f = (dy: Float32Array, w: Float32Array): number =>
      tf.tidy(() => {
        const y = tf.conv3dTranspose(
          tf.tensor5d(dy, [...c.dy]),
          tf.tensor5d(w, [...c.filter]),
          [...c.out],
          c.stride,
          'same',
        );
        return tf.sum(tf.mul(y, r)).dataSync()[0]!;
      });
    const grads = tf.tidy(() =>
      tf
        .grads((dy: tf.Tensor, w: tf.Tensor) =>
          tf.sum(
            tf.mul(tf.conv3dTranspose(dy as tf.Tensor5D, w as tf.Tensor5D, [...c.out], c.stride, 'same'), r),
          ),
        )([tf.tensor5d(dy0, [...c.dy]), tf.tensor5d(w0, [...c.filter])])
        .map((g) => g.dataSync()),
    );
    const numericDy = centralDifference((x) => f(x, w0), dy0, 1e-2);
    const numericW = centralDifference((x) => f(dy0, x), w0, 1e-2);
    const errDy = relativeError(grads[0]!, numericDy);
    const errW = relativeError(grads[1]!, numericW);
    if (process.env['FEDSEG_PRINT_FIGURES'])
      console.log(
        `conv3dTranspose ${backend} fast=${fastKernels} ${c.name}: rel err dy ${errDy.toExponential(2)}, filter ${errW.toExponential(2)}`,
      );
    expect(errDy).toBeLessThan(1e-2);
    expect(errW).toBeLessThan(1e-2);
    r.dispose();
  });
});
