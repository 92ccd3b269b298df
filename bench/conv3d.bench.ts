/**
 * `npm run bench -- conv3d [--repeats N] [--backends wasm,cpu] [--skip-before]`
 * Conv3D forward and both backprops on 2x32^3x8 -> 16 filters, 3x3x3, stride 1, 'same' (BENCHMARKS.md):
 * GFLOP/s of the backend's own kernels (before), of ours without the addon (portable: what a machine
 * without libdnnl-dev gets) and with it (after), and, as the peer, of the same backend's matMul on the
 * im2col-shaped product of the same size ([2*32^3, 27*8] x [27*8, 16]).
 * Note: tfjs-wasm 4.22's own conv3d backprops are fast but return wrong values (kernels/conv3d.spec.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeKernels, registerFastKernels, restoreOriginalKernels } from '../libs/models/src/kernels';
import { fmt, median, option, printTable, startableBackends, timeRepeated } from './bench-util';

const X_SHAPE: [number, number, number, number, number] = [2, 32, 32, 32, 8];
const FILTER_SHAPE: [number, number, number, number, number] = [3, 3, 3, 8, 16];
const Y_SHAPE: [number, number, number, number, number] = [2, 32, 32, 32, 16];
const FLOPS = 2 * 2 * 32 ** 3 * 16 * 27 * 8;

type KernelId = 'Conv3D' | 'Conv3DBackpropInputV2' | 'Conv3DBackpropFilterV2' | 'MatMul (peer)';

interface Row {
  backend: string;
  kernel: KernelId;
  before: number;
  /** registerFastKernels without the addon, as on a machine where it did not build. */
  portable: number;
  after: number;
}

function runKernel(
  kernel: KernelId,
  x: tf.Tensor5D,
  filter: tf.Tensor5D,
  dy: tf.Tensor5D,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
): tf.Tensor {
  switch (kernel) {
    case 'Conv3D':
      return tf.conv3d(x, filter, 1, 'same');
    case 'Conv3DBackpropInputV2':
      return tf
        .engine()
        .runKernel(
          tf.Conv3DBackpropInputV2,
          { dy, filter },
          { strides: 1, pad: 'same', inputShape: X_SHAPE },
        ) as tf.Tensor;
    case 'Conv3DBackpropFilterV2':
      return tf
        .engine()
        .runKernel(
          tf.Conv3DBackpropFilterV2,
          { x, dy },
          { strides: 1, pad: 'same', filterShape: FILTER_SHAPE },
        ) as tf.Tensor;
    case 'MatMul (peer)':
      return tf.matMul(a, b);
  }
}

async function gflops(kernel: KernelId, repeats: number, warmup: number): Promise<number> {
  const x = tf.randomNormal(X_SHAPE, 0, 1, 'float32', 1) as tf.Tensor5D;
  const filter = tf.randomNormal(FILTER_SHAPE, 0, 1, 'float32', 2) as tf.Tensor5D;
  const dy = tf.randomNormal(Y_SHAPE, 0, 1, 'float32', 3) as tf.Tensor5D;
  const a = tf.randomNormal([2 * 32 ** 3, 27 * 8], 0, 1, 'float32', 4) as tf.Tensor2D;
  const b = tf.randomNormal([27 * 8, 16], 0, 1, 'float32', 5) as tf.Tensor2D;
  const times = await timeRepeated(
    async () => {
      const out = runKernel(kernel, x, filter, dy, a, b);
      await out.data();
      out.dispose();
    },
    repeats,
    warmup,
  );
  tf.dispose([x, filter, dy, a, b]);
  return FLOPS / (median(times) * 1e6);
}

export async function run(args: string[]): Promise<void> {
  const repeats = Number(option(args, 'repeats') ?? 7);
  const skipBefore = args.includes('--skip-before');
  const backends = await startableBackends((option(args, 'backends') ?? 'wasm,cpu').split(','));
  const native = loadNativeKernels();
  console.log(
    `conv3d: x ${X_SHAPE.join('x')}, filter ${FILTER_SHAPE.join('x')}, ${(FLOPS / 1e9).toFixed(3)} GFLOP per kernel`,
  );
  console.log(`native addon: ${native.kernels ? `oneDNN ${native.kernels.info().onednn}` : native.reason}\n`);
  const kernels: KernelId[] = ['Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2', 'MatMul (peer)'];
  const rows: Row[] = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    restoreOriginalKernels(backend);
    const before = new Map<KernelId, number>();
    for (const kernel of kernels) {
      // The stock kernels take seconds per call on cpu: a few runs suffice for a median.
      before.set(
        kernel,
        skipBefore && kernel !== 'MatMul (peer)'
          ? NaN
          : await gflops(kernel, kernel === 'MatMul (peer)' ? repeats : 3, 1),
      );
    }
    const portable = new Map<KernelId, number>();
    await registerFastKernels(backend, () => undefined, { native: false });
    for (const kernel of kernels) {
      portable.set(kernel, skipBefore && kernel !== 'MatMul (peer)' ? NaN : await gflops(kernel, 3, 1));
    }
    restoreOriginalKernels(backend);
    await registerFastKernels(backend, (m) => console.log(m));
    for (const kernel of kernels) {
      const after = await gflops(kernel, repeats, 2);
      rows.push({
        backend,
        kernel,
        before: before.get(kernel) ?? NaN,
        portable: portable.get(kernel) ?? NaN,
        after,
      });
    }
    restoreOriginalKernels(backend);
  }
  printTable(
    [
      'backend',
      'kernel',
      'before GFLOP/s',
      'portable GFLOP/s',
      'after GFLOP/s',
      'speed-up',
      'after / matMul',
    ],
    rows.map((r) => {
      const peer = rows.find((p) => p.backend === r.backend && p.kernel === 'MatMul (peer)')?.after ?? NaN;
      return [
        r.backend,
        r.kernel,
        fmt(r.before, 2),
        fmt(r.portable, 2),
        fmt(r.after, 2),
        `${fmt(r.after / r.before, 1)}x`,
        fmt(r.after / peer, 2),
      ];
    }),
  );
  const json = {
    bench: 'conv3d',
    shape: { x: X_SHAPE, filter: FILTER_SHAPE },
    gflop_per_kernel: FLOPS / 1e9,
    native: native.kernels ? native.kernels.info().onednn : null,
    results: rows.map((r) => ({
      backend: r.backend,
      kernel: r.kernel,
      before_gflops: round(r.before),
      portable_gflops: round(r.portable),
      after_gflops: round(r.after),
    })),
  };
  console.log(JSON.stringify(json));
}

function round(value: number): number | null {
  return Number.isFinite(value) ? Math.round(value * 100) / 100 : null;
}
