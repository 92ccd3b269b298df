import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { instanceNorm } from './instance-norm';
import { expectClose, runOn } from './test-support';
import { loadWasmSimdKernels } from './wasm-simd-kernels';

/**
 * The fused instance norm (two kernels) against the same math composed of tfjs ops on the cpu backend's
 * own kernels (instanceNorm falls back to that composite when the fused kernels are not registered):
 * values and the gradients for x, gamma and beta, on odd shapes and large offsets (variance cancellation).
 */
const SHAPES: [number, number, number, number, number][] = [
  [2, 5, 6, 7, 3],
  [1, 4, 4, 4, 8],
  [2, 3, 2, 5, 1],
];

function normAndGrads(shape: number[], seed: number, offset: number): tf.Tensor[] {
  const x = tf.add(tf.randomNormal(shape, 0, 2, 'float32', seed), offset);
  const c = shape[4];
  const gamma = tf.randomUniform([c], 0.5, 1.5, 'float32', seed + 1);
  const beta = tf.randomNormal([c], 0, 1, 'float32', seed + 2);
  const weights = tf.randomNormal(shape, 0, 1, 'float32', seed + 3);
  const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor =>
    tf.sum(tf.mul(instanceNorm(a, g, b, 1e-5), weights));
  return [instanceNorm(x, gamma, beta, 1e-5), ...tf.grads(f)([x, gamma, beta])];
}

describe.each([
  ['cpu', true],
  ['wasm', true],
  ['cpu', false],
  ['wasm', false],
] as const)('fused instance norm on the %s backend (addon allowed: %s)', (backendName, native) => {
  it.each(SHAPES.map((s, i) => [s.join('x'), s, i] as const))(
    'matches the composite of tfjs ops: %s',
    async (_n, shape, i) => {
      for (const offset of [0, 100]) {
        const expected = await runOn('cpu', false, () => normAndGrads(shape, 10 * i + 1, offset));
        const actual = await runOn(backendName, true, () => normAndGrads(shape, 10 * i + 1, offset), {
          native,
        });
        ['y', 'dx', 'dgamma', 'dbeta'].forEach((what, k) =>
          expectClose(actual[k], expected[k], `${what} (offset ${offset})`, 1e-4),
        );
        tf.dispose([...expected, ...actual]);
      }
    },
  );
});

describe('fused instance norm in the WebAssembly SIMD module (wasm backend, no addon)', () => {
  // Channel counts the module handles (multiples of 4); odd spatial sizes; blocks of 512 voxels cross samples.
  const SIMD_SHAPES: [number, number, number, number, number][] = [
    [2, 5, 6, 7, 4],
    [1, 3, 5, 4, 32],
    [2, 8, 9, 9, 12],
  ];
  it.each(SIMD_SHAPES.map((s, i) => [s.join('x'), s, i] as const))(
    'matches the composite of tfjs ops and runs in the module: %s',
    async (_n, shape, i) => {
      const simd = (await loadWasmSimdKernels()).kernels;
      for (const offset of [0, 100]) {
        const before = simd?.callsOf.instanceNorm ?? 0;
        const expected = await runOn('cpu', false, () => normAndGrads(shape, 50 + 10 * i, offset));
        const actual = await runOn('wasm', true, () => normAndGrads(shape, 50 + 10 * i, offset), {
          native: false,
          simd: true,
        });
        // Forward twice (the value, then inside tf.grads) and backward once.
        expect((simd?.callsOf.instanceNorm ?? 0) - before).toBe(3);
        ['y', 'dx', 'dgamma', 'dbeta'].forEach((what, k) =>
          expectClose(actual[k], expected[k], `${what} (offset ${offset})`, 1e-4),
        );
        tf.dispose([...expected, ...actual]);
      }
    },
  );
});
