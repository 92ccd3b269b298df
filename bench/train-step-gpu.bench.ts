/**
 * `npm run bench -- train-step-gpu [--steps 3] [--warmup 1] [--rounds 3] [--sizes cpu,gpu] [--side N] [--backend webgpu]`
 * One optimizer step of the 3D U-Net on the webgpu backend (Dawn), at two sizes (BENCHMARKS.md, issue 13):
 * - cpu: bench-unet3d, 2 x 48^3 x 1, filters 8/16/32 (depth 3);
 * - gpu: 2 x 128^3 x 1, filters 32/64/128/256 (depth 4).
 * Both: instance norm, 2 classes, soft Dice + cross-entropy (libs/models' 'dice-ce'), Adam 1e-3.
 * The GPU size runs by default only on a hardware adapter: on a software one (Mesa lavapipe) one step of it
 * takes many minutes; `--sizes cpu,gpu` forces it. Steps are timed the way training runs: no readback per
 * step, the loss of the last step of a round is read once (that read waits for the whole round's GPU work).
 * Prints a table, then one JSON line.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  createSegmentationModel,
  initBackend,
  segmentationLoss,
  type BackendPreference,
} from '@fedseg/models';
import { webGpuDeviceErrors } from '../libs/models/src/backend/webgpu-backend';
import { fmt, median, option, printTable } from './bench-util';

interface Size {
  name: 'cpu' | 'gpu';
  side: number;
  batch: number;
  baseFilters: number;
  depth: number;
}

const SIZES: Record<Size['name'], Size> = {
  cpu: { name: 'cpu', side: 48, batch: 2, baseFilters: 8, depth: 3 },
  gpu: { name: 'gpu', side: 128, batch: 2, baseFilters: 32, depth: 4 },
};

interface Result {
  size: Size['name'];
  shape: string;
  filters: string;
  msPerStep: number;
  voxelsPerS: number;
  roundsMs: number[];
  leakedTensors: number;
}

async function measure(size: Size, plan: { steps: number; warmup: number; rounds: number }): Promise<Result> {
  const { side, batch } = size;
  const model = createSegmentationModel(
    {
      architecture: 'unet3d',
      inChannels: 1,
      numClasses: 2,
      baseFilters: size.baseFilters,
      depth: size.depth,
      normalization: 'instance',
      groupNormGroups: 4,
    },
    0,
  );
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomNormal([batch, side, side, side, 1], 0, 1, 'float32', 1);
  // A float32 one-hot, as patchBatch gives trainLocal: an int32 label in the loss makes tfjs-backend-webgpu
  // 4.22 compile an int32 Transpose with a float32 output, which fails (and the loss turns NaN).
  const oneHot = tf.tidy(() => {
    const foreground = tf.cast(
      tf.greater(tf.randomUniform([batch, side, side, side, 1], 0, 1, 'float32', 2), 0.5),
      'float32',
    );
    return tf.concat([tf.sub(1, foreground), foreground], -1);
  }) as tf.Tensor5D;
  const variables = model.network.trainableWeights.map((w) => w.read() as tf.Variable);
  /** Runs n steps, reads only the last loss (the one sync point), returns the elapsed ms. */
  const steps = async (n: number): Promise<number> => {
    const start = performance.now();
    let last: tf.Scalar | null = null;
    for (let i = 0; i < n; i++) {
      last?.dispose();
      last = optimizer.minimize(
        () =>
          segmentationLoss(model.network.apply(x, { training: true }) as tf.Tensor5D, oneHot, {
            kind: 'dice-ce',
            diceSmooth: 1,
          }),
        true,
        variables,
      );
    }
    if (last) {
      const value = (await last.data())[0]!;
      last.dispose();
      if (!Number.isFinite(value)) throw new Error(`loss is ${value} at size ${size.name}`);
    }
    return performance.now() - start;
  };
  await steps(plan.warmup);
  const before = tf.memory().numTensors;
  const roundsMs: number[] = [];
  for (let r = 0; r < plan.rounds; r++) roundsMs.push((await steps(plan.steps)) / plan.steps);
  const leakedTensors = tf.memory().numTensors - before;
  const gpuErrors = webGpuDeviceErrors().count;
  if (gpuErrors > 0)
    throw new Error(`${gpuErrors} WebGPU error(s) during the run; figures would be meaningless`);
  tf.dispose([x, oneHot]);
  optimizer.dispose();
  model.dispose();
  const msPerStep = median(roundsMs);
  const filters = Array.from({ length: size.depth }, (_, i) => size.baseFilters * 2 ** i).join('/');
  return {
    size: size.name,
    shape: `${batch}x${side}^3`,
    filters,
    msPerStep,
    voxelsPerS: (batch * side ** 3) / (msPerStep / 1000),
    roundsMs,
    leakedTensors,
  };
}

export async function run(args: string[]): Promise<void> {
  const plan = {
    steps: Number(option(args, 'steps') ?? 3),
    warmup: Number(option(args, 'warmup') ?? 1),
    rounds: Number(option(args, 'rounds') ?? 3),
  };
  const preference = (option(args, 'backend') ?? 'webgpu') as BackendPreference;
  const info = await initBackend(preference);
  if (info.name !== 'webgpu') {
    console.log(
      `webgpu unavailable here (${info.skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ')}); ran nothing.`,
    );
    console.log(
      JSON.stringify({ bench: 'train-step-gpu', backend: info.name, skipped: info.skipped, results: [] }),
    );
    return;
  }
  const software = /\(software adapter\)/.test(info.adapter ?? '');
  const requested = option(args, 'sizes')?.split(',') ?? (software ? ['cpu'] : ['cpu', 'gpu']);
  console.log(
    `train-step-gpu on webgpu: ${info.adapter}${software ? ' — a SOFTWARE adapter (CPU rasterizer), not a GPU' : ''}`,
  );
  const results: Result[] = [];
  // --side N overrides the volume side of every size (a quick check of the code path on a slow adapter).
  const side = option(args, 'side');
  for (const name of requested) {
    const size = SIZES[name as Size['name']];
    if (!size) throw new Error(`unknown size "${name}"; use cpu, gpu or cpu,gpu`);
    results.push(await measure(side ? { ...size, side: Number(side) } : size, plan));
  }
  printTable(
    ['size', 'input', 'filters', 'ms/step (median)', 'voxels/s', 'rounds ms/step', 'leaked tensors'],
    results.map((r) => [
      r.size,
      r.shape,
      r.filters,
      fmt(r.msPerStep),
      fmt(r.voxelsPerS, 0),
      r.roundsMs.map((v) => fmt(v)).join(' '),
      String(r.leakedTensors),
    ]),
  );
  if (software && !requested.includes('gpu'))
    console.log(
      'gpu size (2x128^3, filters 32..256) skipped on a software adapter; --sizes cpu,gpu forces it.',
    );
  console.log(
    JSON.stringify({
      bench: 'train-step-gpu',
      backend: 'webgpu',
      adapter: info.adapter,
      software,
      plan,
      results,
    }),
  );
}
