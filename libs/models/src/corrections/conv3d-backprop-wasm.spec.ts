import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../backend/init-backend';
import { seededRandom } from '../util/seeded-random';

/**
 * The wasm backend (stock kernels plus our two corrected ones) against the cpu backend's reference kernels,
 * on geometries the U-Nets use (3x3x3 'same' on volumes deeper than the filter, 2x2x2 stride-2 up/down)
 * and awkward ones (odd sizes, 'valid', stride 2 with kernel 3). Before the corrections, the 3x3x3 input
 * gradient on an 8^3 volume and every stride-2 case differed from cpu by O(1).
 */
const geometries = [
  { name: '3x3x3 same on 8x6x5', x: [2, 8, 6, 5, 3], filter: [3, 3, 3, 3, 4], stride: 1, pad: 'same' },
  { name: '2x2x2 stride 2 on 8x8x8', x: [1, 8, 8, 8, 2], filter: [2, 2, 2, 2, 3], stride: 2, pad: 'same' },
  {
    name: '3x3x3 stride 2 same on 7x6x5',
    x: [1, 7, 6, 5, 2],
    filter: [3, 3, 3, 2, 2],
    stride: 2,
    pad: 'same',
  },
  { name: '3x3x3 valid on 6x5x7', x: [1, 6, 5, 7, 2], filter: [3, 3, 3, 2, 3], stride: 1, pad: 'valid' },
  { name: '1x1x1 on 4x4x4', x: [1, 4, 4, 4, 5], filter: [1, 1, 1, 5, 2], stride: 1, pad: 'same' },
] as const;

type Geometry = (typeof geometries)[number];

function values(n: number, seed: number): Float32Array {
  const rng = seededRandom(seed);
  return Float32Array.from({ length: n }, () => 2 * rng.next() - 1);
}

/** conv3d, its input gradient and its filter gradient (the three Conv3D kernels) on the current backend. */
function convAndGrads(g: Geometry): Float32Array[] {
  return tf.tidy(() => {
    const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
    const x = tf.tensor5d(values(size(g.x), 1), [...g.x]);
    const w = tf.tensor5d(values(size(g.filter), 2), [...g.filter]);
    const y = tf.conv3d(x, w, g.stride, g.pad);
    const dy = tf.tensor(values(y.size, 3), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, g.stride, g.pad),
    )([x, w], dy);
    const up = tf.conv3dTranspose(dy as tf.Tensor5D, w, [...g.x], g.stride, g.pad);
    return [y, dx!, dw!, up].map((t) => t.dataSync() as Float32Array);
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('corrected wasm Conv3D backprop kernels', () => {
  it.each(geometries)('agree with the cpu backend for $name', async (g) => {
    await initBackend('cpu', { fastKernels: false });
    const reference = convAndGrads(g);
    await initBackend('wasm', { fastKernels: false });
    const wasm = convAndGrads(g);
    reference.forEach((r, i) => {
      expect(wasm[i]!.length).toBe(r.length);
      // Sums of up to 108 products of values in [-1, 1]: float32 reordering leaves ~1e-5.
      expect(maxAbsDiff(wasm[i]!, r)).toBeLessThan(1e-4);
    });
  });
});
