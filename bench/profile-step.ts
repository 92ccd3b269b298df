// Temporary profiling script (not a bench): per-kernel time of one bench-unet3d training step.
import * as tf from '@tensorflow/tfjs-core';
import { createSegmentationModel } from '@fedseg/models';
import { instanceNorm, registerFastKernels } from '../libs/models/src/kernels';
import { InstanceNormalization3D } from '../libs/models/src/layers/instance-normalization';
import { startableBackends } from './bench-util';

async function main(): Promise<void> {
  const backend = process.argv[2] ?? 'wasm';
  await startableBackends([backend]);
  await tf.setBackend(backend);
  console.log(await registerFastKernels(backend));
  if (process.argv[3] === 'fused') {
    const proto = InstanceNormalization3D.prototype as unknown as { call(i: tf.Tensor | tf.Tensor[]): tf.Tensor };
    proto.call = function (this: { weights: { read(): tf.Tensor }[] }, inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return instanceNorm(x, this.weights[0].read(), this.weights[1].read(), 1e-5);
    };
  }
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
  const x = tf.randomNormal([2, 48, 48, 48, 1]);
  const oneHot = tf.oneHot(
    tf.cast(tf.greater(tf.randomUniform([2, 48, 48, 48]), 0.5), 'int32'),
    2,
  ) as tf.Tensor5D;
  const step = (): tf.Scalar | null =>
    optimizer.minimize(() => {
      const logits = model.network.apply(x, { training: true }) as tf.Tensor5D;
      return tf.losses.softmaxCrossEntropy(oneHot, logits) as tf.Scalar;
    }, true);
  step()?.dispose();
  const t0 = performance.now();
  const info = await tf.profile(() => {
    step()?.dispose();
  });
  console.log('step ms', performance.now() - t0);
  const top = [...info.kernels].sort((a, b) => (b.kernelTimeMs as number) - (a.kernelTimeMs as number)).slice(0, 60);
  for (const k of top)
    if (!k.name.startsWith('Conv3D'))
      console.log(
        k.name,
        JSON.stringify(k.inputShapes),
        JSON.stringify(k.outputShapes),
        typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs.toFixed(1) : '',
      );
  const by = new Map<string, { ms: number; n: number }>();
  for (const k of info.kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const key =
      k.name +
      ' ' +
      (k.name.startsWith('Conv3D') || k.name.startsWith('Slice') || k.name.startsWith('Concat') ? '' : '');
    const e = by.get(key) ?? { ms: 0, n: 0 };
    e.ms += ms;
    e.n += 1;
    by.set(key, e);
  }
  const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
  let total = 0;
  for (const [, v] of rows) total += v.ms;
  console.log('kernel total ms', total.toFixed(0));
  for (const [k, v] of rows.slice(0, 30))
    console.log(k.padEnd(28), v.ms.toFixed(1).padStart(9), String(v.n).padStart(5));
}
void main();
