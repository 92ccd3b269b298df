import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import '../register';
import { kernelChoice, registerFastKernels, restoreOriginalKernels } from './register';
import { expectClose, runConv3dKernels, runOn, type Conv3dCase } from './test-support';
import { seededRandom } from '../util/seeded-random';
import { loadWasmSimdKernels, MIN_THREADED_FLOPS } from './wasm-simd-kernels';

/**
 * The WebAssembly SIMD convolutions (libs/models/wasm/src/conv3d.c), run as they are on a machine without
 * the oneDNN addon, against the cpu backend's own kernels (tfjs's reference loops over NDHWC) on random
 * shapes, and their gradients against central finite differences.
 */
type Triple = [number, number, number];

type Case = Conv3dCase & { stride: Triple };

/** Random shapes: sizes 1-9 (odd ones included), filters 1-3 per axis, strides 1 or 2 per axis, 1-32 channels. */
function randomCases(count: number, seed: number): Case[] {
  const rand = seededRandom(seed).next; // seeded, so a failing random case can be replayed
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const cases: Case[] = [];
  while (cases.length < count) {
    const filter: Triple = [int(1, 3), int(1, 3), int(1, 3)];
    const pad = rand() < 0.5 ? 'same' : 'valid';
    const size: Triple = [int(filter[0], 9), int(filter[1], 9), int(filter[2], 9)];
    const stride: Triple = [int(1, 2), int(1, 2), int(1, 2)];
    const inC = [1, 2, 3, 5, 8, 13, 16, 32][int(0, 7)];
    const outC = [1, 2, 4, 7, 8, 12, 16, 32][int(0, 7)];
    const batch = int(1, 2);
    cases.push({
      name: `${batch}x${size.join('x')}x${inC} -> ${outC}, filter ${filter.join('x')}, strides ${stride.join(',')}, ${pad}`,
      x: [batch, ...size, inC],
      filter: [...filter, inC, outC],
      stride,
      pad,
    });
  }
  return cases;
}

const FIXED: Case[] = [
  {
    name: 'U-Net level 1, 1 -> 8',
    x: [2, 6, 6, 6, 1],
    filter: [3, 3, 3, 1, 8],
    stride: [1, 1, 1],
    pad: 'same',
  },
  {
    name: '16 -> 32, stride 2, odd',
    x: [1, 7, 5, 9, 16],
    filter: [3, 3, 3, 16, 32],
    stride: [2, 2, 2],
    pad: 'same',
  },
  {
    name: '32 -> 16, 2x2x2 stride 2',
    x: [2, 4, 6, 4, 32],
    filter: [2, 2, 2, 32, 16],
    stride: [2, 2, 2],
    pad: 'same',
  },
  {
    name: '8 -> 2, 1x1x1 head',
    x: [1, 5, 4, 3, 8],
    filter: [1, 1, 1, 8, 2],
    stride: [1, 1, 1],
    pad: 'valid',
  },
];

const CASES = [...FIXED, ...randomCases(10, 21)];

const LABELS = ['Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2'];
const PORTABLE = { native: false, simd: true } as const;

describe('WebAssembly SIMD convolutions', () => {
  it('load from the committed module', async () => {
    const load = await loadWasmSimdKernels();
    expect(load.reason).toBe('');
    expect(load.kernels).not.toBeNull();
  });

  describe.each(['wasm', 'cpu'])('on the %s backend, without the addon', (backendName) => {
    it('are the registered choice, and say why oneDNN is not', async () => {
      await tf.setBackend(backendName);
      const names = await registerFastKernels(backendName, () => undefined, PORTABLE);
      const choice = kernelChoice(backendName);
      restoreOriginalKernels(backendName);
      expect(names).toEqual(expect.arrayContaining(LABELS));
      expect(choice?.convolutions).toBe('wasm-simd');
      expect(choice?.description).toMatch(/WebAssembly SIMD128.*oneDNN not used: turned off/);
    });

    it.each(CASES.map((c, i) => [c.name, c, i] as const))(
      'match the cpu reference kernels: %s',
      async (_name, c, i) => {
        const simd = (await loadWasmSimdKernels()).kernels;
        const callsBefore = simd?.callsOf.conv3d ?? 0;
        const expected = await runOn('cpu', false, () => runConv3dKernels(c, 700 + 10 * i));
        const actual = await runOn(backendName, true, () => runConv3dKernels(c, 700 + 10 * i), PORTABLE);
        // All three ran in the module (none fell back to another kernel).
        expect((simd?.callsOf.conv3d ?? 0) - callsBefore).toBe(3);
        LABELS.forEach((label, k) => expectClose(actual[k], expected[k], `${label} (${c.name})`, 2e-5));
        tf.dispose([...expected, ...actual]);
      },
    );

    it('leave no tensor or backend memory behind', async () => {
      await tf.setBackend(backendName);
      await registerFastKernels(backendName, () => undefined, PORTABLE);
      tf.dispose(runConv3dKernels(FIXED[1], 5)); // the first call may allocate the module's stack
      const before = tf.memory().numTensors;
      const beforeIds = tf.engine().backend.numDataIds();
      tf.dispose(runConv3dKernels(FIXED[1], 6));
      expect(tf.memory().numTensors).toBe(before);
      expect(tf.engine().backend.numDataIds()).toBe(beforeIds);
      restoreOriginalKernels(backendName);
    });
  });

  describe.each(['wasm', 'cpu'])('on 2 worker threads, on the %s backend', (backendName) => {
    it.each(CASES.slice(0, 8).map((c, i) => [c.name, c, i] as const))(
      'match the cpu reference kernels: %s',
      async (_name, c, i) => {
        const simd = (await loadWasmSimdKernels()).kernels;
        if (!simd) throw new Error('SIMD module missing');
        simd.minThreadedFlops = 0;
        try {
          const before = simd.threadedCalls;
          const expected = await runOn('cpu', false, () => runConv3dKernels(c, 900 + 10 * i));
          const actual = await runOn(backendName, true, () => runConv3dKernels(c, 900 + 10 * i), {
            ...PORTABLE,
            threads: 2,
          });
          expect(simd.threads).toBe(2);
          expect(simd.threadedCalls - before).toBe(3);
          LABELS.forEach((label, k) => expectClose(actual[k], expected[k], `${label} (${c.name})`, 2e-5));
          tf.dispose([...expected, ...actual]);
        } finally {
          simd.minThreadedFlops = MIN_THREADED_FLOPS;
        }
      },
    );
  });

  /**
   * loss = sum(op(x, w) * r) is linear in x and in w, so central differences have no truncation error: what
   * they measure is exactly the gradient, up to float32 rounding of the loss (|loss| * 6e-8 / eps).
   */
  describe.each([
    ['conv3d, stride 2, odd sizes', 'conv', [1, 5, 6, 7, 3], [3, 3, 3, 3, 4], [2, 2, 2], 'same'],
    ['conv3d, stride 1, valid', 'conv', [2, 4, 5, 4, 5], [3, 2, 3, 5, 2], [1, 1, 1], 'valid'],
    ['conv3dTranspose, 2x2x2 stride 2', 'transpose', [1, 3, 2, 3, 6], [2, 2, 2, 4, 6], [2, 2, 2], 'same'],
  ] as const)('gradients of %s', (_name, op, xShape, wShape, stride, pad) => {
    it('match central finite differences for x and w', async () => {
      await tf.setBackend('wasm');
      await registerFastKernels('wasm', () => undefined, PORTABLE);
      try {
        const x = tf.randomNormal([...xShape], 0, 1, 'float32', 11) as tf.Tensor5D;
        const w = tf.randomNormal([...wShape], 0, 1, 'float32', 12) as tf.Tensor5D;
        const apply = (xt: tf.Tensor5D, wt: tf.Tensor5D): tf.Tensor5D =>
          op === 'conv'
            ? tf.conv3d(xt, wt, [...stride], pad)
            : tf.conv3dTranspose(
                xt,
                wt,
                [xShape[0], xShape[1] * 2, xShape[2] * 2, xShape[3] * 2, wShape[3]],
                [...stride],
                pad,
              );
        const r = tf.tidy(() => tf.randomNormal(apply(x, w).shape, 0, 1, 'float32', 13));
        const loss = (xt: tf.Tensor5D, wt: tf.Tensor5D): tf.Scalar => tf.sum(tf.mul(apply(xt, wt), r));
        const [gx, gw] = tf.grads((xt, wt) => loss(xt as tf.Tensor5D, wt as tf.Tensor5D))([x, w]);
        const rand = seededRandom(99).next;
        const eps = 1e-2;
        for (const [which, t, g] of [
          ['x', x, gx],
          ['w', w, gw],
        ] as const) {
          const values = t.dataSync().slice();
          const grad = g.dataSync();
          for (let k = 0; k < 8; k++) {
            const idx = Math.floor(rand() * values.length);
            const at = (delta: number): number => {
              const v = values.slice();
              v[idx] += delta;
              return tf.tidy(() => {
                const moved = tf.tensor(v, t.shape) as tf.Tensor5D;
                return loss(which === 'x' ? moved : x, which === 'w' ? moved : w).dataSync()[0];
              });
            };
            const fd = (at(eps) - at(-eps)) / (2 * eps);
            expect(Math.abs(fd - grad[idx])).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
          }
        }
        tf.dispose([x, w, r, gx, gw]);
      } finally {
        restoreOriginalKernels('wasm');
      }
    });
  });
});
