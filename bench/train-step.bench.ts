/**
 * `npm run bench -- train-step [--steps 3] [--rounds 3] [--warmup 2]
 *                              [--engines native,wasm-simd,wasm-simd-mt,cpu-simd,tfjs-wasm] [--threads N]
 *                              [--no-peer] [--size 48] [--batch 2]`
 * One optimizer step of bench-unet3d (BENCHMARKS.md: 2 x 48^3 x 1 input, 2 classes, filters 8/16/32, two
 * 3x3x3 conv + instance norm + ReLU per level, max-pool 2, transposed-conv 2 up, concatenated skips, 1x1x1
 * head, soft Dice (foreground) + cross-entropy, Adam 1e-3), built by libs/models, per engine:
 *   native     tfjs wasm backend, convolutions on the oneDNN addon (skipped where it is not built, or with
 *              FEDSEG_NATIVE=0)
 *   wasm-simd  tfjs wasm backend, convolutions on the WebAssembly SIMD module (what a machine without
 *              libdnnl-dev gets; one thread unless FEDSEG_WASM_THREADS says more)
 *   wasm-simd-mt  the same on --threads N worker threads (default: the cores available, at most 4)
 *   cpu-simd   tfjs cpu backend, convolutions on the SIMD module
 *   tfjs-wasm  tfjs wasm backend with its own kernels only (stock; about 18 s a step: 1 round of 1 step)
 *   tfjs-cpu   tfjs cpu backend with its own kernels only (about 42 s a step; only when named)
 * The other fast kernels (instance norm, reductions, pooling, copies, the fused loss and Adam) are on for
 * every engine but stock. A step is what trainLocal runs: the library's loss, tf.variableGrads, its Adam.
 * The PyTorch peer (../shared/peer/unet3d_torch.py, same network) runs before each round of each engine when
 * /usr/bin/python3 has torch; the ratio to it is the median of the per-round ratios.
 * "first step after new weights": after the timed rounds, each engine gets `--rounds` simulated federated
 * rounds (new global weights through setFlatWeights, a fresh optimizer, then 1 + --steps steps); the
 * figure is the median first step, and "x steady" its ratio to the median of the steps after it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  adam,
  createSegmentationModel,
  getFlatWeights,
  segmentationLoss,
  setFlatWeights,
  type Optimizer,
} from '@fedseg/models';
import {
  loadNativeKernels,
  registerFastKernels,
  restoreOriginalKernels,
  type FastKernelOptions,
} from '../libs/models/src/kernels';
import { fmt, median, option, printTable, startableBackends } from './bench-util';

const PYTHON = '/usr/bin/python3';
const PEER =
  process.env['FEDSEG_TORCH_PEER'] ??
  path.resolve(__dirname, '..', '..', 'shared', 'peer', 'unet3d_torch.py');

/** Convolution multiply-adds x 2 of one forward pass of bench-unet3d; a training step is 3x (fwd + 2 bwd). */
export function unetForwardFlops(size: number, batch: number): number {
  const conv = (side: number, cin: number, cout: number, k: number): number =>
    2 * batch * side ** 3 * cout * cin * k ** 3;
  const s1 = size;
  const s2 = size / 2;
  const s3 = size / 4;
  return (
    conv(s1, 1, 8, 3) +
    conv(s1, 8, 8, 3) + // encoder level 1
    conv(s2, 8, 16, 3) +
    conv(s2, 16, 16, 3) + // encoder level 2
    conv(s3, 16, 32, 3) +
    conv(s3, 32, 32, 3) + // bottleneck
    conv(s3, 32, 16, 2) +
    conv(s2, 32, 16, 3) +
    conv(s2, 16, 16, 3) + // up 2 (transposed: input-side count), decoder 2
    conv(s2, 16, 8, 2) +
    conv(s1, 16, 8, 3) +
    conv(s1, 8, 8, 3) + // up 1, decoder 1
    conv(s1, 8, 2, 1) // head
  );
}

type EngineId = 'native' | 'wasm-simd' | 'wasm-simd-mt' | 'cpu-simd' | 'tfjs-wasm' | 'tfjs-cpu';

interface Engine {
  backend: 'wasm' | 'cpu';
  /** null: tfjs's own kernels only. */
  kernels: FastKernelOptions | null;
  label: string;
}

const ENGINES: Record<EngineId, Engine> = {
  native: { backend: 'wasm', kernels: { native: true, simd: false }, label: 'native (wasm + oneDNN addon)' },
  'wasm-simd': {
    backend: 'wasm',
    kernels: { native: false, simd: true },
    label: 'wasm-simd (wasm + SIMD module)',
  },
  'wasm-simd-mt': {
    backend: 'wasm',
    kernels: { native: false, simd: true },
    label: 'wasm-simd-mt (wasm + SIMD module, threads)',
  },
  'cpu-simd': {
    backend: 'cpu',
    kernels: { native: false, simd: true },
    label: 'cpu-simd (cpu + SIMD module)',
  },
  'tfjs-wasm': { backend: 'wasm', kernels: null, label: 'tfjs-wasm (stock kernels)' },
  'tfjs-cpu': { backend: 'cpu', kernels: null, label: 'tfjs-cpu (stock kernels)' },
};

const DEFAULT_ENGINES: EngineId[] = ['native', 'wasm-simd', 'wasm-simd-mt', 'cpu-simd', 'tfjs-wasm'];

interface Measured {
  engine: string;
  msPerStep: number;
  steps: number[];
  /** tfjs ms/step over the peer's ms/step, per round (each round runs the peer right before). */
  roundRatios: number[];
  peerMs: number[];
  leakedTensors?: number;
  /** The first step after new weights and a fresh optimizer, per simulated round, and the steps after it. */
  firstSteps: number[];
  afterFirst: number[];
  /** The process's first steps (the warmup), in order. */
  warmupMs: number[];
  /** Per timed round: its first step (right after the peer ran) over the median of its other steps. */
  afterPeerRatios: number[];
}

/**
 * Trains bench-unet3d on `backend` for `rounds` rounds of `steps` steps after `warmup` steps. When
 * `peer` is given it runs right before each round: on a shared machine the load changes by the minute, so
 * the ratio is taken per round and its median reported.
 */
async function measureEngine(
  engine: Engine,
  shape: { size: number; batch: number },
  plan: { steps: number; warmup: number; rounds: number; newWeights: boolean },
  peer: (() => number | null) | null,
): Promise<Measured> {
  const { size, batch } = shape;
  const { backend } = engine;
  await tf.setBackend(backend);
  restoreOriginalKernels(backend);
  if (engine.kernels) await registerFastKernels(backend, (m) => console.log(`  ${m}`), engine.kernels);
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
  const x = tf.randomNormal([batch, size, size, size, 1], 0, 1, 'float32', 1);
  const labels = tf.tidy(() =>
    tf.cast(tf.greater(tf.randomUniform([batch, size, size, size], 0, 1, 'float32', 2), 0.5), 'int32'),
  );
  const oneHot = tf.tidy(() => tf.cast(tf.oneHot(labels, 2), 'float32')) as tf.Tensor5D;
  // What trainLocal does each step: the library's loss (soft Dice on the foreground with smoothing 1 plus
  // mean cross-entropy: exactly the peer's loss), tf.variableGrads, the library's Adam at 1e-3.
  const variables = model.network.trainableWeights.map((w) => w.read() as tf.Variable);
  let optimizer: Optimizer = adam();
  const step = async (): Promise<void> => {
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
    tf.dispose(Object.values(grads));
    await value.data();
    value.dispose();
  };
  // The first steps of the process: oneDNN's per-shape implementation search, V8 compiling the wasm modules
  // and the kernels' JavaScript; reported apart (a fresh agent pays them once, in its first round).
  const warmupMs: number[] = [];
  for (let i = 0; i < plan.warmup; i++) {
    const start = performance.now();
    await step();
    warmupMs.push(performance.now() - start);
  }
  const tensorsBefore = tf.memory().numTensors;
  const times: number[] = [];
  const roundRatios: number[] = [];
  const peerMs: number[] = [];
  // The first step of a round right after the peer's process ran (cold caches, other work just ended), over
  // the round's other steps: the slow "first step of each round" the issue measured at 2.3x.
  const afterPeerRatios: number[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    const peerRound = peer ? peer() : null;
    const roundTimes: number[] = [];
    for (let i = 0; i < plan.steps; i++) {
      const start = performance.now();
      await step();
      roundTimes.push(performance.now() - start);
    }
    times.push(...roundTimes);
    if (peerRound !== null && roundTimes.length > 1)
      afterPeerRatios.push(roundTimes[0]! / median(roundTimes.slice(1)));
    if (peerRound !== null) {
      peerMs.push(peerRound);
      roundRatios.push(median(roundTimes) / peerRound);
    }
  }
  const leakedTensors = tf.memory().numTensors - tensorsBefore;
  // A federated round on a site: new global weights arrive (a different vector), trainLocal starts a
  // fresh optimizer, and its first step runs. Measured `plan.rounds` times against the steps after it.
  const firstSteps: number[] = [];
  const afterFirst: number[] = [];
  if (plan.newWeights) {
    const weights = getFlatWeights(model);
    for (let round = 0; round < plan.rounds; round++) {
      const data = weights.data.map((w, i) => w + 1e-3 * Math.sin(i + round));
      setFlatWeights(model, { manifest: weights.manifest, data });
      optimizer.dispose();
      optimizer = adam();
      for (let i = 0; i < 1 + plan.steps; i++) {
        const start = performance.now();
        await step();
        (i === 0 ? firstSteps : afterFirst).push(performance.now() - start);
      }
    }
  }
  tf.dispose([x, labels, oneHot]);
  optimizer.dispose();
  model.dispose();
  restoreOriginalKernels(backend);
  return {
    engine: engine.label,
    msPerStep: median(times),
    steps: times,
    roundRatios,
    peerMs,
    leakedTensors: leakedTensors / times.length,
    firstSteps,
    afterFirst,
    warmupMs,
    afterPeerRatios,
  };
}

function torchAvailable(): boolean {
  if (!fs.existsSync(PYTHON) || !fs.existsSync(PEER)) return false;
  return spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
}

function runPeer(size: number, batch: number, steps: number): number | null {
  const result = spawnSync(
    PYTHON,
    [PEER, '--threads', '2', '--size', String(size), '--batch', String(batch), '--steps', String(steps)],
    {
      encoding: 'utf8',
    },
  );
  const last = result.stdout.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(last) as { ms_per_step?: unknown };
    return typeof parsed.ms_per_step === 'number' ? parsed.ms_per_step : null;
  } catch {
    console.log(`PyTorch peer failed: ${result.stderr.trim().split('\n').pop() ?? 'no output'}`);
    return null;
  }
}

export async function run(args: string[]): Promise<void> {
  const steps = Number(option(args, 'steps') ?? 3);
  const rounds = Number(option(args, 'rounds') ?? 3);
  const warmup = Number(option(args, 'warmup') ?? 2);
  const size = Number(option(args, 'size') ?? 48);
  const batch = Number(option(args, 'batch') ?? 2);
  const withPeer = !args.includes('--no-peer') && torchAvailable();
  const wanted = (option(args, 'engines')?.split(',') ?? DEFAULT_ENGINES).filter((e): e is EngineId => {
    if (e in ENGINES) return true;
    console.log(`unknown engine '${e}' skipped (${Object.keys(ENGINES).join(', ')})`);
    return false;
  });
  const startable = await startableBackends(['wasm', 'cpu']);
  const native = loadNativeKernels();
  const engines = wanted.filter((id) => {
    if (!startable.includes(ENGINES[id].backend)) {
      console.log(`engine ${id} skipped: backend ${ENGINES[id].backend} does not start here`);
      return false;
    }
    if (id === 'native' && (!native.kernels || process.env['FEDSEG_NATIVE'] === '0')) {
      console.log(`engine native skipped: ${native.kernels ? 'FEDSEG_NATIVE=0' : native.reason}`);
      return false;
    }
    return true;
  });
  const flopsPerStep = 3 * unetForwardFlops(size, batch);
  const voxels = batch * size ** 3;
  console.log(
    `train-step: bench-unet3d, batch ${batch} x ${size}^3, ${(flopsPerStep / 1e9).toFixed(2)} GFLOP of convolutions per step; ` +
      `${rounds} rounds of ${steps} steps per engine${withPeer ? ', PyTorch before each round' : ''}`,
  );
  if (!withPeer)
    console.log('PyTorch peer skipped (needs /usr/bin/python3 with torch: apt-get install -y python3-torch)');
  const peer = withPeer ? (): number | null => runPeer(size, batch, steps) : null;

  const results: Measured[] = [];
  const threads = Number(option(args, 'threads') ?? Math.min(4, availableParallelism()));
  for (const id of engines) {
    const base = ENGINES[id];
    const engine =
      id === 'wasm-simd-mt' && base.kernels
        ? { ...base, label: `${base.label.slice(0, -1)}: ${threads})`, kernels: { ...base.kernels, threads } }
        : base;
    // tfjs's own kernels take 18-45 s a step here: one round of one step after one warmup, one peer run.
    const plan = engine.kernels
      ? { steps, warmup, rounds, newWeights: true }
      : { steps: 1, warmup: 1, rounds: 1, newWeights: false };
    results.push(await measureEngine(engine, { size, batch }, plan, peer));
  }
  const allPeer = results.flatMap((r) => r.peerMs);
  const peerMs = allPeer.length > 0 ? median(allPeer) : NaN;
  const rows = results.map((r) => ({
    ...r,
    ratio: r.roundRatios.length > 0 ? median(r.roundRatios) : NaN,
    firstMs: r.firstSteps.length > 0 ? median(r.firstSteps) : NaN,
    firstRatio: r.firstSteps.length > 0 ? median(r.firstSteps) / median(r.afterFirst) : NaN,
  }));

  console.log('');
  printTable(
    [
      'engine',
      'ms/step (median)',
      'voxels/s',
      'GFLOP/s',
      'x PyTorch (median of rounds)',
      'first step after new weights',
      'x steady',
      'tensors leaked/step',
    ],
    [
      ...rows.map((r) => [
        r.engine,
        fmt(r.msPerStep, 0),
        fmt(voxels / (r.msPerStep / 1000), 0),
        fmt(flopsPerStep / (r.msPerStep * 1e6), 1),
        fmt(r.ratio, 2),
        fmt(r.firstMs, 0),
        fmt(r.firstRatio, 2),
        fmt(r.leakedTensors ?? NaN, 1),
      ]),
      ...(Number.isFinite(peerMs)
        ? [
            [
              'PyTorch CPU, 2 threads (peer)',
              fmt(peerMs, 0),
              fmt(voxels / (peerMs / 1000), 0),
              fmt(flopsPerStep / (peerMs * 1e6), 1),
              '1.00',
              '-',
              '-',
              '-',
            ],
          ]
        : []),
    ],
  );
  for (const r of rows) {
    if (r.warmupMs.length > 0)
      console.log(`${r.engine}: the process's first steps ${r.warmupMs.map((t) => fmt(t, 0)).join(', ')} ms`);
  }
  const fastRows = rows.filter((r) => !r.engine.includes('stock'));
  const best = fastRows.reduce<(typeof rows)[number] | undefined>(
    (b, r) => (!b || r.msPerStep < b.msPerStep ? r : b),
    undefined,
  );
  const round2 = (v: number): number | null => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);
  const json = {
    bench: 'train-step',
    model: 'bench-unet3d',
    batch,
    size,
    gflop_per_step: round2(flopsPerStep / 1e9),
    best_backend: best?.engine ?? null,
    ms_per_step: best ? Math.round(best.msPerStep) : null,
    voxels_per_s: best ? Math.round(voxels / (best.msPerStep / 1000)) : null,
    gflops: best ? round2(flopsPerStep / (best.msPerStep * 1e6)) : null,
    pytorch_ms_per_step: Number.isFinite(peerMs) ? peerMs : null,
    ratio_to_pytorch: best ? round2(best.ratio) : null,
    results: rows.map((r) => ({
      engine: r.engine,
      ms_per_step: Math.round(r.msPerStep),
      ratio_to_pytorch: round2(r.ratio),
      first_step_after_new_weights_ms: Number.isFinite(r.firstMs) ? Math.round(r.firstMs) : null,
      first_step_ratio_to_steady: round2(r.firstRatio),
      steps_ms: r.steps.map((t) => Math.round(t)),
      first_steps_ms: r.firstSteps.map((t) => Math.round(t)),
      process_warmup_steps_ms: r.warmupMs.map((t) => Math.round(t)),
      first_step_after_peer_ratios: r.afterPeerRatios.map((v) => round2(v)),
      peer_ms: r.peerMs,
    })),
  };
  console.log(JSON.stringify(json));
}
