import '@tensorflow/tfjs-backend-cpu';
// Registers tfjs's gradients (the reference differentiates conv3d through them).
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { conv3dParams } from './conv3d-params';
import { loadNativeKernels } from './native-addon';
import { restoreOriginalKernels } from './register';
import { expectClose } from './test-support';
import { seededRandom } from '../util/seeded-random';

/**
 * The addon's direct backward-weights loops (libs/native-kernels/src/conv3d-direct.cc, mode 3) against the
 * cpu backend's own kernels: dFilter = d/dFilter sum(conv3d(x, filter) * dy), by tfjs's autodiff on cpu.
 * Skipped where the addon is not built (no libdnnl-dev) or the CPU lacks AVX2 and FMA.
 */
type Shape5 = [number, number, number, number, number];
const native = loadNativeKernels().kernels;

const CASES: { name: string; x: Shape5; k: number; inC: number; pad: 'same' | 'valid' }[] = [
  { name: '3^3 same, 8 -> 8, odd sides', x: [2, 5, 7, 3, 8], k: 3, inC: 8, pad: 'same' },
  { name: '3^3 same, 16 -> 8', x: [1, 6, 4, 5, 16], k: 3, inC: 16, pad: 'same' },
  { name: '3^3 valid, 8 -> 8', x: [1, 6, 5, 7, 8], k: 3, inC: 8, pad: 'valid' },
  { name: '2^3 same (asymmetric padding), 16 -> 8', x: [2, 5, 4, 3, 16], k: 2, inC: 16, pad: 'same' },
  { name: '1^3, 8 -> 8', x: [1, 3, 4, 5, 8], k: 1, inC: 8, pad: 'valid' },
];

/** Whether the loops run on this CPU (x86 with AVX2 and FMA); elsewhere the addon refuses mode 3. */
function directRuns(): boolean {
  if (!native) return false;
  const info = backend_util.computeConv3DInfo([1, 2, 2, 2, 8], [1, 1, 1, 8, 8], 1, 1, 'valid');
  try {
    native.conv3d(2, conv3dParams(info), 3, new Float32Array(64), new Float32Array(64), new Float32Array(64));
    return true;
  } catch {
    return false;
  }
}

const describeIfNative = directRuns() ? describe : describe.skip;

describeIfNative('direct backward-weights loops (addon mode 3)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    restoreOriginalKernels('cpu');
  });

  for (const c of CASES) {
    it(`${c.name}: equals the cpu backend's filter gradient`, () => {
      const rng = seededRandom(11);
      const filterShape: Shape5 = [c.k, c.k, c.k, c.inC, 8];
      const info = backend_util.computeConv3DInfo(c.x, filterShape, 1, 1, c.pad);
      const draw = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
      const x = tf.tensor5d(draw(c.x.reduce((a, b) => a * b, 1)), c.x);
      const dy = tf.tensor5d(draw(info.outShape.reduce((a, b) => a * b, 1)), info.outShape as Shape5);
      const filter = tf.zeros(filterShape) as tf.Tensor5D;
      const expected = tf.grad((f: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv3d(x, f as tf.Tensor5D, 1, c.pad), dy)),
      )(filter);
      const out = new Float32Array(filter.size);
      native!.conv3d(
        2,
        conv3dParams(info),
        3,
        x.dataSync() as Float32Array,
        dy.dataSync() as Float32Array,
        out,
      );
      const actual = tf.tensor(out, filterShape);
      expectClose(actual, expected, c.name, 1e-5);
      tf.dispose([x, dy, filter, expected, actual]);
    });
  }

  it('refuses a shape it does not handle instead of computing something else', () => {
    const info = backend_util.computeConv3DInfo([1, 4, 4, 4, 8], [3, 3, 3, 8, 4], 1, 1, 'same');
    const out = new Float32Array(3 * 3 * 3 * 8 * 4);
    expect(() =>
      native!.conv3d(
        2,
        conv3dParams(info),
        3,
        new Float32Array(4 * 4 * 4 * 8),
        new Float32Array(4 * 4 * 4 * 4),
        out,
      ),
    ).toThrow(/direct loops/);
  });
});
