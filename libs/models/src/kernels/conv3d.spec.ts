import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { registerFastKernels, restoreOriginalKernels } from './register';
import { loadNativeKernels } from './native-addon';
import { expectClose, runConv3dKernels, runOn, type Conv3dCase } from './test-support';

/**
 * Each fast kernel against the backend's own kernel (the reference implementation) on random shapes:
 * strides 1 and 2, odd sizes, several channel counts, 'same' and 'valid' padding.
 */

type Case = Conv3dCase;

const CASES: Case[] = [
  {
    name: '1 -> 8 channels, 7^3, stride 1, same',
    x: [2, 7, 7, 7, 1],
    filter: [3, 3, 3, 1, 8],
    stride: 1,
    pad: 'same',
  },
  {
    name: '8 -> 16, odd 5x7x9, stride 2, same',
    x: [1, 5, 7, 9, 8],
    filter: [3, 3, 3, 8, 16],
    stride: 2,
    pad: 'same',
  },
  {
    name: '3 -> 5, 9^3, stride 2, valid',
    x: [2, 9, 9, 9, 3],
    filter: [3, 3, 3, 3, 5],
    stride: 2,
    pad: 'valid',
  },
  {
    name: '16 -> 8, 6x5x4, stride 1, valid',
    x: [1, 6, 5, 4, 16],
    filter: [3, 3, 3, 16, 8],
    stride: 1,
    pad: 'valid',
  },
  {
    name: '4 -> 6, 2x2x2 filter, stride 2 (U-Net up/down)',
    x: [2, 8, 6, 4, 4],
    filter: [2, 2, 2, 4, 6],
    stride: 2,
    pad: 'same',
  },
  {
    name: '5 -> 3, 1x3x5 filter, strides (1, 2, 1)',
    x: [1, 5, 8, 7, 5],
    filter: [1, 3, 5, 5, 3],
    stride: [1, 2, 1],
    pad: 'same',
  },
  { name: '32 -> 32, 1x1x1 filter', x: [1, 3, 5, 4, 32], filter: [1, 1, 1, 32, 32], stride: 1, pad: 'valid' },
];

const LABELS = ['Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2'];
const DILATED: Case = {
  name: 'dilation 2 (forward only)',
  x: [1, 9, 8, 7, 3],
  filter: [3, 3, 3, 3, 4],
  stride: 1,
  pad: 'same',
  dilation: 2,
};

const native = loadNativeKernels();
const describeNative = native.kernels ? describe : describe.skip;

// The reference is the cpu backend's own kernels (plain loops over NDHWC, tfjs's reference
// implementation). The wasm backend's own Conv3D agrees with them, but its two backprops (tfjs 4.22)
// return wrong values for many shapes (see the last test), so they cannot be the reference on wasm.
describeNative.each(['cpu', 'wasm'])('fast 3D convolution kernels on the %s backend', (backendName) => {
  it('registers Conv3D and both of its backprops', async () => {
    await tf.setBackend(backendName);
    const names = await registerFastKernels(backendName, () => undefined);
    restoreOriginalKernels(backendName);
    expect(names).toEqual(
      expect.arrayContaining(['Conv3D', 'Conv3DBackpropFilterV2', 'Conv3DBackpropInputV2']),
    );
  });

  it.each([...CASES, DILATED].map((c, i) => [c.name, c, i] as const))(
    'matches the reference kernels: %s',
    async (_name, c, i) => {
      const expected = await runOn('cpu', false, () => runConv3dKernels(c, 100 + 10 * i));
      const actual = await runOn(backendName, true, () => runConv3dKernels(c, 100 + 10 * i));
      LABELS.forEach((label, k) => expectClose(actual[k], expected[k], `${label} (${c.name})`));
      tf.dispose([...expected, ...actual]);
    },
  );

  it('does not leak tensors or backend memory', async () => {
    await tf.setBackend(backendName);
    await registerFastKernels(backendName, () => undefined);
    const before = tf.memory().numTensors;
    const beforeIds = tf.engine().backend.numDataIds();
    tf.dispose(runConv3dKernels(CASES[1], 5));
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(beforeIds);
    restoreOriginalKernels(backendName);
  });
});

describe('without the addon or the SIMD module, on wasm', () => {
  it.each(CASES.map((c, i) => [c.name, c, i] as const))(
    'both backprops (plain loops) match the reference: %s',
    async (_name, c, i) => {
      const expected = await runOn('cpu', false, () => runConv3dKernels(c, 300 + 10 * i));
      const actual = await runOn('wasm', true, () => runConv3dKernels(c, 300 + 10 * i), {
        native: false,
        simd: false,
      });
      LABELS.forEach((label, k) => expectClose(actual[k], expected[k], `${label} (${c.name})`));
      tf.dispose([...expected, ...actual]);
    },
  );
});

describe("the wasm backend's own conv3d backprops", () => {
  it('differ from the reference where ours match (why wasm needs replacements even without the addon)', async () => {
    const c = CASES[1]; // stride 2, odd sizes
    const expected = await runOn('cpu', false, () => runConv3dKernels(c, 1));
    const own = await runOn('wasm', false, () => runConv3dKernels(c, 1));
    const ours = await runOn('wasm', true, () => runConv3dKernels(c, 1), { native: false });
    expectClose(own[0], expected[0], 'its Conv3D is right');
    expect(() => expectClose(own[1], expected[1], 'its Conv3DBackpropInputV2')).toThrow(/max abs error/);
    expect(() => expectClose(own[2], expected[2], 'its Conv3DBackpropFilterV2')).toThrow(/max abs error/);
    expectClose(ours[1], expected[1], 'our Conv3DBackpropInputV2');
    expectClose(ours[2], expected[2], 'our Conv3DBackpropFilterV2');
    tf.dispose([...expected, ...own, ...ours]);
  });
});

describe('registerFastKernels', () => {
  it('skips a backend it has no kernels for, saying why, without throwing', async () => {
    const messages: string[] = [];
    await expect(registerFastKernels('webgl', (m) => messages.push(m))).resolves.toEqual([]);
    expect(messages.join('\n')).toMatch(/webgl/);
  });
});
