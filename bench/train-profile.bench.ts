/**
 * `npm run bench -- train-profile [--backend wasm] [--stock]`
 * Where one bench-unet3d training step spends its time, per tfjs kernel (tf.profile; on cpu and wasm the
 * kernel times are wall-clock). Steers the fast-kernel work: the largest rows are the next to replace.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createSegmentationModel } from '@fedseg/models';
import { registerFastKernels, restoreOriginalKernels } from '../libs/models/src/kernels';
import { fmt, option, printTable, startableBackends } from './bench-util';

export async function run(args: string[]): Promise<void> {
  const backend = option(args, 'backend') ?? 'wasm';
  if ((await startableBackends([backend])).length === 0)
    throw new Error(`backend ${backend} does not start here`);
  await tf.setBackend(backend);
  if (args.includes('--stock')) restoreOriginalKernels(backend);
  else await registerFastKernels(backend, (m) => console.log(m));
  const model = createSegmentationModel(
    {
      architecture: 'unet3d',
      inChannels: 1,
      numClasses: 2,
      baseFilters: 8,
      depth: 3,
      normalization: 'instance',
      groupNormGroups: 4,
    },
    0,
  );
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([2, 48, 48, 48, 1], 0, 1, 'float32', 1);
  const oneHot = tf.tidy(() =>
    tf.oneHot(tf.cast(tf.greater(tf.randomUniform([2, 48, 48, 48], 0, 1, 'float32', 2), 0.5), 'int32'), 2),
  );
  const step = (): void => {
    optimizer
      .minimize(
        () =>
          tf.losses.softmaxCrossEntropy(
            oneHot,
            model.network.apply(x, { training: true }) as tf.Tensor,
          ) as tf.Scalar,
        true,
      )
      ?.dispose();
  };
  step(); // first call of each shape picks the convolution layout
  const start = performance.now();
  const info = await tf.profile(step);
  const stepMs = performance.now() - start;
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const entry = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    entry.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    entry.calls += 1;
    byKernel.set(k.name, entry);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const kernelMs = rows.reduce((sum, [, v]) => sum + v.ms, 0);
  console.log(
    `train-profile: bench-unet3d step on ${backend}: ${fmt(stepMs, 0)} ms wall, ${fmt(kernelMs, 0)} ms in kernels\n`,
  );
  printTable(
    ['kernel', 'ms', 'calls', '% of step'],
    rows.map(([name, v]) => [name, fmt(v.ms, 1), String(v.calls), fmt((100 * v.ms) / stepMs, 1)]),
  );
  tf.dispose([x, oneHot]);
  optimizer.dispose();
  model.dispose();
  console.log(
    JSON.stringify({
      bench: 'train-profile',
      backend,
      step_ms: Math.round(stepMs),
      kernel_ms: Math.round(kernelMs),
      kernels: rows.map(([name, v]) => ({ name, ms: Math.round(v.ms * 10) / 10, calls: v.calls })),
    }),
  );
}
