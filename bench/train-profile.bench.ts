/**
 * `npm run bench -- train-profile [--backend wasm] [--stock]`
 * Where one bench-unet3d training step spends its time, per tfjs kernel (tf.profile; on cpu and wasm the
 * kernel times are wall-clock). Steers the fast-kernel work: the largest rows are the next to replace.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adam, createSegmentationModel, segmentationLoss } from '@fedseg/models';
import { loadNativeKernels, registerFastKernels, restoreOriginalKernels } from '../libs/models/src/kernels';
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
  const x = tf.randomNormal([2, 48, 48, 48, 1], 0, 1, 'float32', 1);
  const oneHot = tf.tidy(() =>
    tf.oneHot(tf.cast(tf.greater(tf.randomUniform([2, 48, 48, 48], 0, 1, 'float32', 2), 0.5), 'int32'), 2),
  ) as tf.Tensor5D;
  // The step trainLocal runs (and train-step measures): the library's loss and Adam, tf.variableGrads.
  const variables = model.network.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = adam();
  const step = (): void => {
    const { value, grads } = tf.variableGrads(
      () =>
        segmentationLoss(model.network.apply(x, { training: true }) as tf.Tensor5D, oneHot, {
          kind: 'dice-ce',
          diceSmooth: 1,
        }),
      variables,
    );
    optimizer.step(
      variables,
      variables.map((v) => grads[v.name]!),
      1e-3,
    );
    tf.dispose([value, ...Object.values(grads)]);
  };
  step(); // first call of each shape picks the convolution layout
  const native = loadNativeKernels().kernels;
  native?.plans?.(true);
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
  const plans = (native?.plans?.() ?? []).filter((p) => p.calls > 0).sort((a, b) => b.ms - a.ms);
  if (plans.length > 0) {
    console.log(
      '\nconvolutions on oneDNN (this step; kind 0 forward, 1 backward-data, 2 backward-weights)\n',
    );
    printTable(
      ['kind', 'batch x in^3 x C -> out^3 x C, kernel, stride', 'implementation', 'layout', 'ms', 'calls'],
      plans.map((p) => [
        String(p.kind),
        `${p.shape[0]} x ${p.shape[1]}^3 x ${p.shape[4]} -> ${p.shape[5]}^3 x ${p.shape[8]}, k${p.shape[9]}, s${p.shape[12]}`,
        p.impl,
        p.blocked ? 'blocked' : 'plain',
        fmt(p.ms, 1),
        String(p.calls),
      ]),
    );
  }
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
