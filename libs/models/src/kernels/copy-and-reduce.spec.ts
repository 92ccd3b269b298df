import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-layers registers all of tfjs-core's gradients, which tf.grads needs.
import '@tensorflow/tfjs-layers';
import { expectClose, runOn } from './test-support';
import { loadWasmSimdKernels, type SimdFunction } from './wasm-simd-kernels';

/**
 * The copy, reduction, pooling and elementwise kernels (Slice, SplitV, Concat, Sum, Mean, MaxPool3D and
 * its gradient, Add, Multiply) against the cpu backend's own kernels, which
 * are tfjs's reference loops, on odd 5-D shapes and the axes a U-Net uses plus a few it does not.
 */
const random = (shape: number[], seed: number): tf.Tensor => tf.randomNormal(shape, 0, 1, 'float32', seed);

const CASES: [string, () => tf.Tensor[]][] = [
  [
    'Slice of 5-D boxes (inner, channel, whole-row and scalar-like runs)',
    () => {
      const x = random([2, 5, 7, 3, 6], 1);
      return [
        tf.slice(x, [1, 1, 2, 0, 1], [1, 3, 4, 3, 4]),
        tf.slice(x, [0, 0, 0, 0, 5], [-1, -1, -1, -1, 1]),
        tf.slice(x, [1, 2, 0, 0, 0], [1, 2, 7, 3, 6]),
        tf.slice(x, [1, 4, 6, 2, 5], [1, 1, 1, 1, 1]),
        tf.slice(random([3, 4, 5, 6], 2), [1, 0, 2, 1], [2, 4, 2, 5]),
      ];
    },
  ],
  [
    'SplitV along channels, depth and batch, with -1 and equal splits',
    () => {
      const x = random([2, 3, 5, 4, 7], 3);
      return [...tf.split(x, [3, 4], -1), ...tf.split(x, [1, -1], 1), ...tf.split(x, 2, 0)];
    },
  ],
  [
    'Concat along channels (U-Net skips), a middle axis and batch, of unequal parts',
    () => {
      const a = random([2, 3, 5, 4, 3], 4);
      const b = random([2, 3, 5, 4, 5], 5);
      const c = random([2, 3, 2, 4, 5], 6);
      return [tf.concat([a, b], -1), tf.concat([b, c], 2), tf.concat([a, a, a], 0), tf.concat([c], 1)];
    },
  ],
  [
    'Sum and Mean over spatial axes, all-but-channels, the last axis, everything; keepDims both ways',
    () => {
      const x = random([2, 5, 6, 7, 3], 7);
      return [
        tf.sum(x, [1, 2, 3], true),
        tf.sum(x, [0, 1, 2, 3]),
        tf.sum(x, -1),
        tf.sum(x),
        tf.mean(x, [1, 2, 3], true),
        tf.mean(x, [3, 4]),
        tf.mean(x, [0, 2]),
        tf.sum(tf.cast(tf.greater(x, 0), 'int32'), [1, 2]),
      ];
    },
  ],
  [
    'MaxPool3D and its gradient: 2x2x2 stride 2, 3x3x3 stride 2 same, odd sizes, ties after ReLU',
    () => {
      const x = random([2, 6, 5, 7, 3], 10);
      const relu = tf.relu(x);
      const poolGrad = (t: tf.Tensor, size: number, stride: number, pad: 'same' | 'valid'): tf.Tensor[] => {
        const weights = random(tf.maxPool3d(t as tf.Tensor5D, size, stride, pad).shape, 11);
        const f = (a: tf.Tensor): tf.Tensor =>
          tf.sum(tf.mul(tf.maxPool3d(a as tf.Tensor5D, size, stride, pad), weights));
        return [tf.maxPool3d(t as tf.Tensor5D, size, stride, pad), tf.grad(f)(t)];
      };
      return [
        ...poolGrad(x, 2, 2, 'valid'),
        ...poolGrad(relu, 2, 2, 'valid'),
        ...poolGrad(x, 3, 2, 'same'),
        ...poolGrad(relu, 3, 1, 'same'),
      ];
    },
  ],
  [
    'Add and Multiply: same shapes, per-channel, scalar, either side broadcast, other broadcasts, int32',
    () => {
      const x = random([2, 3, 4, 5, 6], 12);
      const y = random([2, 3, 4, 5, 6], 13);
      const channel = random([6], 14);
      const keptDims = random([2, 1, 1, 1, 6], 15);
      const ints = tf.cast(tf.mul(x, 10), 'int32');
      return [
        tf.add(x, y),
        tf.mul(x, y),
        tf.add(x, channel),
        tf.mul(channel, x),
        tf.add(x, tf.scalar(2.5)),
        tf.mul(tf.scalar(-1), x),
        tf.add(x, keptDims),
        tf.mul(keptDims, x),
        tf.add(ints, ints),
      ];
    },
  ],
  [
    'gradients of concat and of instance-norm statistics',
    () => {
      const a = random([1, 4, 3, 5, 2], 8);
      const b = random([1, 4, 3, 5, 3], 9);
      const f = (p: tf.Tensor, q: tf.Tensor): tf.Tensor => {
        const cat = tf.concat([p, q], -1);
        const { mean, variance } = tf.moments(cat, [1, 2, 3], true);
        return tf.sum(tf.mul(tf.div(tf.sub(cat, mean), tf.sqrt(tf.add(variance, 1e-5))), tf.range(1, 6)));
      };
      return tf.grads(f)([a, b]);
    },
  ],
];

describe.each([
  ['cpu', true],
  ['wasm', true],
  ['cpu', false],
  ['wasm', false],
] as const)(
  'copy, reduction and pooling kernels on the %s backend (addon allowed: %s)',
  (backendName, native) => {
    it.each(CASES)('match the reference kernels: %s', async (_name, fn) => {
      const expected = await runOn('cpu', false, fn);
      const actual = await runOn(backendName, true, fn, { native });
      expect(actual.length).toBe(expected.length);
      actual.forEach((t, i) => {
        expect(t.dtype).toBe(expected[i].dtype);
        expectClose(t, expected[i], `output ${i}`);
      });
      tf.dispose([...expected, ...actual]);
    });
  },
);

/** Shapes the SIMD module handles (channels / inner sizes multiples of 4), so its versions run on wasm. */
const SIMD_CASES: [string, SimdFunction, () => tf.Tensor[]][] = [
  [
    'MaxPool3D gradient, 4 and 8 channels: 2x2x2 stride 2, 3x3x3 stride 2 same, ties after ReLU',
    'maxPool3dGrad',
    () => {
      const grads = (t: tf.Tensor, size: number, stride: number, pad: 'same' | 'valid'): tf.Tensor => {
        const weights = random(tf.maxPool3d(t as tf.Tensor5D, size, stride, pad).shape, 21);
        const f = (a: tf.Tensor): tf.Tensor =>
          tf.sum(tf.mul(tf.maxPool3d(a as tf.Tensor5D, size, stride, pad), weights));
        return tf.grad(f)(t);
      };
      const x = random([2, 6, 5, 7, 4], 20);
      const y = random([1, 4, 6, 4, 8], 22);
      return [grads(x, 2, 2, 'valid'), grads(tf.relu(x), 2, 2, 'valid'), grads(y, 3, 2, 'same')];
    },
  ],
  [
    'Sum over all-but-channels (bias gradients, 8 and 16 channels), the last axis, everything',
    'sumBlock',
    () => {
      const x = random([2, 5, 6, 7, 8], 23);
      return [
        tf.sum(x, [0, 1, 2, 3]),
        tf.sum(random([1, 9, 8, 7, 16], 24), [1, 2, 3], true),
        tf.sum(x, -1),
        tf.sum(x),
      ];
    },
  ],
  [
    'Concat and split along channels (U-Net skips: 8 + 8, 16 + 16, odd 3 + 5)',
    'copyRows',
    () => {
      const a = random([2, 4, 5, 3, 8], 25);
      const b = random([2, 4, 5, 3, 8], 26);
      const c = random([1, 3, 3, 3, 3], 27);
      const d = random([1, 3, 3, 3, 5], 28);
      return [tf.concat([a, b], -1), ...tf.split(tf.concat([b, a], -1), [8, 8], -1), tf.concat([c, d], -1)];
    },
  ],
];

describe('copy, reduction and pooling kernels in the WebAssembly SIMD module (wasm, no addon)', () => {
  it.each(SIMD_CASES)('match the reference kernels and run in the module: %s', async (_name, used, fn) => {
    const simd = (await loadWasmSimdKernels()).kernels;
    const before = simd?.callsOf[used] ?? 0;
    const expected = await runOn('cpu', false, fn);
    const actual = await runOn('wasm', true, fn, { native: false, simd: true });
    expect((simd?.callsOf[used] ?? 0) - before).toBeGreaterThan(0);
    actual.forEach((t, i) => expectClose(t, expected[i], `output ${i}`));
    tf.dispose([...expected, ...actual]);
  });
});
