import * as tf from '@tensorflow/tfjs-core';
import { TrainingConfig, parseOrThrow, type FlatWeights } from '@fedseg/protocol';
import { effectivePatchSize, patchBatch, randomOrigin, type Vec3 } from '../data/patch-batch';
import { assertSampleFits, type TrainingSample } from '../data/training-sample';
import { TrainingAbortedError, WeightsMismatchError } from '../errors';
import { segmentationLoss } from '../losses/segmentation-loss';
import type { SegmentationModel } from '../model/segmentation-model';
import { seededRandom, shuffledIndices } from '../util/seeded-random';
import { learningRateAt } from './learning-rate';
import { adam, sgdMomentum, type Optimizer } from './optimizer';

export interface TrainProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss?: number;
}

export interface TrainLocalOptions {
  /** FedProx anchor (the round's global weights); used when config.fedProxMu > 0. Matched by name. */
  globalWeights?: FlatWeights;
  onProgress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
  /**
   * Read the loss back every N steps. Each read waits for the device to finish all queued work, so on a GPU
   * (webgpu) reading every step stalls the pipeline; default 10 there, 1 on the CPU backends.
   */
  lossReadEvery?: number;
}

export interface TrainLocalResult {
  meanLoss: number;
  firstEpochLoss: number;
  lastEpochLoss: number;
  /** Samples per epoch (of the first epoch): the weight of this update in FedAvg. */
  samples: number;
  steps: number;
}

/** FedProx anchors as tensors, one per trainable variable (undefined where the anchor omits it, e.g. FedBN). */
function proxAnchors(
  model: SegmentationModel,
  variables: readonly tf.Variable[],
  names: readonly string[],
  global: FlatWeights,
): (tf.Tensor | undefined)[] {
  const offsets = new Map<string, { offset: number; shape: number[] }>();
  let offset = 0;
  for (const spec of global.manifest) {
    offsets.set(spec.name, { offset, shape: spec.shape });
    offset += spec.shape.reduce((a, b) => a * b, 1);
  }
  return variables.map((v, i) => {
    const entry = offsets.get(names[i]!);
    if (!entry) return undefined;
    if (entry.shape.join('x') !== v.shape.join('x')) {
      throw new WeightsMismatchError(
        `FedProx anchor ${names[i]} is ${entry.shape.join('x')}, the ${model.config.architecture} weight is ${v.shape.join('x')}.`,
      );
    }
    return tf.tensor(global.data.slice(entry.offset, entry.offset + v.size), v.shape, 'float32');
  });
}

/**
 * Local training for one federated round: every epoch, each sample yields one random patch (seeded), the
 * samples are shuffled into batches, and each batch takes one optimizer step on the configured loss.
 * FedProx (Li et al., 2020) adds mu/2 ||w - w_global||^2, applied exactly as the gradient term
 * mu (w - w_global) on the variables the anchor names. Deterministic for a given seed on one backend.
 * Returns losses without the proximal term, so they compare across mu.
 */
export async function trainLocal(
  model: SegmentationModel,
  data: readonly TrainingSample[] | ((epoch: number) => readonly TrainingSample[]),
  config: TrainingConfig,
  options: TrainLocalOptions = {},
): Promise<TrainLocalResult> {
  const cfg = parseOrThrow(TrainingConfig, config, 'training config');
  const { inChannels, numClasses } = model.config;
  const rng = seededRandom(cfg.seed);
  const layerVars = model.network.trainableWeights;
  const variables = layerVars.map((w) => w.read() as tf.Variable);
  const names = layerVars.map((w) => w.originalName);
  const samplesFor = (epoch: number): readonly TrainingSample[] => {
    const samples = typeof data === 'function' ? data(epoch) : data;
    samples.forEach((s, i) => assertSampleFits(s, i, inChannels, numClasses));
    return samples;
  };

  const firstSamples = samplesFor(0);
  const stepsPerEpoch = Math.ceil(firstSamples.length / cfg.batchSize);
  const totalSteps = stepsPerEpoch * cfg.epochs;
  const optimizer: Optimizer = cfg.optimizer === 'adam' ? adam() : sgdMomentum(cfg.momentum);
  const anchors =
    cfg.fedProxMu > 0 && options.globalWeights
      ? proxAnchors(model, variables, names, options.globalWeights)
      : [];
  const lossOptions = { kind: cfg.loss, classWeights: cfg.classWeights, diceSmooth: cfg.diceSmooth };
  const epochLosses: number[] = [];
  let step = 0;
  let lossSum = 0;
  const readEvery = Math.max(1, options.lossReadEvery ?? (tf.getBackend() === 'webgpu' ? 10 : 1));
  const unread: tf.Tensor[] = [];
  try {
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const samples = epoch === 0 ? firstSamples : samplesFor(epoch);
      const order = shuffledIndices(samples.length, rng);
      const steps = Math.ceil(samples.length / cfg.batchSize);
      let epochSum = 0;
      for (let b = 0; b < steps; b++) {
        if (options.signal?.aborted)
          throw new TrainingAbortedError(`Local training aborted at epoch ${epoch}, step ${b}.`);
        const batch = order.slice(b * cfg.batchSize, (b + 1) * cfg.batchSize).map((i) => samples[i]!);
        const patch = effectivePatchSize(batch, cfg.patchSize as Vec3, model.spatialDivisor);
        const origins = batch.map((s) => randomOrigin(s.shape, patch, rng));
        const { images, labels } = patchBatch(batch, origins, patch, numClasses);
        const { value, grads } = tf.variableGrads(() => {
          const logits = model.network.apply(images, { training: true }) as tf.Tensor5D;
          return segmentationLoss(logits, labels, lossOptions);
        }, variables);
        const gradList = variables.map((v, i) => {
          const g = grads[v.name]!;
          const anchor = anchors[i];
          if (!anchor) return g;
          const withProx = tf.tidy(() => tf.add(g, tf.mul(tf.sub(v, anchor), cfg.fedProxMu)));
          g.dispose();
          return withProx;
        });
        const lr = learningRateAt(cfg.lrSchedule, cfg.learningRate, step, totalSteps, cfg.polyPower ?? 0.9);
        optimizer.step(variables, gradList, lr);
        tf.dispose([images, labels, ...gradList]);
        unread.push(value);
        let loss: number | undefined;
        if (unread.length >= readEvery || b === steps - 1) {
          const stacked = tf.stack(unread);
          const values = (await stacked.data()) as Float32Array;
          tf.dispose([stacked, ...unread]);
          unread.length = 0;
          for (const v of values) {
            epochSum += v;
            lossSum += v;
          }
          loss = values[values.length - 1];
        }
        step += 1;
        options.onProgress?.({ epoch, epochs: cfg.epochs, step: b + 1, steps, loss });
        // Yield so sockets, timers and an abort can be served between steps.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      epochLosses.push(epochSum / Math.max(1, steps));
    }
  } finally {
    tf.dispose(unread);
    optimizer.dispose();
    tf.dispose(anchors.filter((a): a is tf.Tensor => a !== undefined));
  }
  return {
    meanLoss: lossSum / Math.max(1, step),
    firstEpochLoss: epochLosses[0] ?? NaN,
    lastEpochLoss: epochLosses[epochLosses.length - 1] ?? NaN,
    samples: firstSamples.length,
    steps: step,
  };
}
