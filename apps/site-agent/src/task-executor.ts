import {
  createSegmentationModel,
  evaluateSegmentation,
  evaluationMetrics,
  readFlatWeights,
  setFlatWeights,
  trainLocal,
  type EvaluationCase,
  type SegmentationModel,
} from '@fedseg/models';
import { clipUpdate, encodeUpdate, privatizeUpdate, type CodecSiteState } from '@fedseg/aggregation';
import {
  MASKED_UPDATE_TENSOR,
  SECURE_AGGREGATION_CODEC,
  allocateTensors,
  decodeWeightsView,
  encodeTensors,
  type EvaluateTask,
  type MetricsReport,
  type TrainTask,
  type UpdateSubmit,
} from '@fedseg/protocol';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { AgentLog } from './console-log';
import type { SiteData } from './site-data';
import { TaskRefusedError, type MaskUpdate, type TrainResult } from './task-result';

/**
 * Runs tasks on local data with tfjs. One model per (study, architecture) is kept between rounds so its
 * variables are allocated once; the global weights are loaded into it at each task.
 */
export class TaskExecutor {
  private readonly models = new Map<string, SegmentationModel>();
  /** Per study: what the update codec keeps at the site between rounds (top-k residual). Never sent. */
  private readonly codecState = new Map<string, CodecSiteState | null>();

  constructor(
    private readonly data: SiteData,
    private readonly log: AgentLog,
    private readonly options: { site: string; dumpUpdates?: string },
  ) {}

  private modelFor(task: TrainTask | EvaluateTask): SegmentationModel {
    const key = `${task.studyId}:${JSON.stringify(task.plan.model)}`;
    let model = this.models.get(key);
    if (!model) {
      model = createSegmentationModel(task.plan.model, 0);
      this.models.set(key, model);
    }
    return model;
  }

  /** FedBN: a study that keeps normalization local sends and receives weights without it. */
  private loadGlobal(
    task: TrainTask | EvaluateTask,
    blob: Uint8Array,
    model: SegmentationModel,
    fedBn: boolean,
  ) {
    const digest = crypto.createHash('sha256').update(blob).digest('hex');
    if (digest !== task.globalSha256)
      throw new TaskRefusedError('the global weights do not match their announced sha256');
    // A view of the blob, not a copy (the global weights are only read): one model's worth less while training.
    const global = decodeWeightsView(blob);
    setFlatWeights(model, global, { excludeNormalization: fedBn });
    return global;
  }

  async train(
    task: TrainTask,
    blob: Uint8Array,
    onProgress: (p: { epoch: number; epochs: number; step: number; steps: number; loss?: number }) => void,
    mask?: MaskUpdate,
  ): Promise<TrainResult> {
    // A study that promised masking never gets a plain update from this site, and vice versa.
    if (task.plan.secureAggregation && !mask)
      throw new TaskRefusedError('the study uses secure aggregation but the task carries no masking context');
    if (!task.plan.secureAggregation && mask)
      throw new TaskRefusedError('the task asks for masking that the approved plan does not include');
    const cases = this.data.trainCases;
    if (cases === 0) throw new TaskRefusedError('this site has no training cases');
    // The study's privacy floor: tiny local datasets and batches make updates easier to invert.
    const floor = task.plan.requirements;
    if (cases < floor.minTrainingCases)
      throw new TaskRefusedError(
        `privacy floor: this site has ${cases} training case(s); the study requires at least ${floor.minTrainingCases}`,
      );
    const batch = Math.min(task.plan.training.batchSize, cases);
    if (batch < floor.minBatchSize)
      throw new TaskRefusedError(
        `privacy floor: batches here would hold ${batch} case(s); the study requires at least ${floor.minBatchSize}`,
      );
    const model = this.modelFor(task);
    const fedBn = task.excludeNormalization;
    const global = this.loadGlobal(task, blob, model, fedBn);
    // A fresh shuffle and crop order every round, still reproducible from the study's seed.
    const training = { ...task.plan.training, seed: task.plan.training.seed + task.round };
    // The plan's grid (resampled, cropped, normalized) is prepared on the first task of a plan, then kept.
    const view = this.data.forPlan(task.plan.data);
    const result = await trainLocal(model, view.epochSampler(training, task.round), training, {
      globalWeights: global,
      onProgress,
    });
    const local = await readFlatWeights(model, { excludeNormalization: fedBn });
    // What leaves the site: the delta from the global model, clipped/noised for DP, then compressed.
    // Computed in the payload of a codec-none update blob: sent uncompressed, the delta is not copied again.
    const plain = allocateTensors([{ name: 'update.f32', shape: [local.data.length], dtype: 'float32' }]);
    const delta = plain.tensors[0]!.data as Float32Array;
    for (let i = 0; i < delta.length; i++) delta[i] = local.data[i]! - global.data[i]!;
    privatizeUpdate(delta, task.plan.privacy);
    let encoded: Uint8Array;
    let codec: string;
    let plainDelta: Float32Array | undefined;
    if (mask) {
      // The coordinator cannot clip a masked update: the site applies the study's norm bound itself.
      const strategy = task.plan.strategy;
      if ('updateNormBound' in strategy && strategy.updateNormBound !== undefined)
        clipUpdate(delta, strategy.updateNormBound);
      // Central DP weighs every site 1 (its noise is calibrated to the count); otherwise FedAvg's samples.
      const weight = task.plan.privacy.mode === 'central' ? 1 : cases;
      const ring = await mask(delta, weight);
      // Testing aid (--dump-updates): the unmasked delta stays beside the masked one, so a test can check the
      // coordinator's unmasked sum. It never leaves the site.
      plainDelta = delta;
      encoded = encodeTensors([
        { name: MASKED_UPDATE_TENSOR, shape: [ring.length], dtype: 'uint32', data: ring },
      ]);
      codec = SECURE_AGGREGATION_CODEC;
    } else {
      const encodedUpdate = encodeUpdate(
        task.plan.compression,
        delta,
        this.codecState.get(task.studyId) ?? null,
        {
          manifest: local.manifest,
        },
      );
      this.codecState.set(task.studyId, encodedUpdate.siteState);
      const [only, ...others] = encodedUpdate.tensors;
      // Codec none hands back the delta itself as update.f32: its blob is the one it was computed in.
      encoded =
        others.length === 0 && only?.name === 'update.f32' && only.data === delta
          ? plain.blob
          : encodeTensors(encodedUpdate.tensors);
      codec = task.plan.compression.codec;
    }
    const meta: UpdateSubmit = {
      taskId: task.taskId,
      studyId: task.studyId,
      round: task.round,
      // FedAvg weights sites by their number of training cases (McMahan et al., 2017).
      samples: cases,
      sha256: crypto.createHash('sha256').update(encoded).digest('hex'),
      trainLoss: result.meanLoss,
      steps: result.steps,
    };
    if (this.options.dumpUpdates) {
      const base = path.join(
        this.options.dumpUpdates,
        `${task.studyId}-round-${task.round}-${this.options.site}`,
      );
      await fs.mkdir(this.options.dumpUpdates, { recursive: true });
      await fs.writeFile(`${base}.fstn`, encoded);
      await fs.writeFile(`${base}.json`, JSON.stringify(meta));
      if (plainDelta)
        await fs.writeFile(
          `${base}.plain.fstn`,
          encodeTensors([
            { name: 'update.f32', shape: [plainDelta.length], dtype: 'float32', data: plainDelta },
          ]),
        );
    }
    return { meta, blob: encoded, codec };
  }

  async evaluate(
    task: EvaluateTask,
    blob: Uint8Array,
    onProgress?: (p: { caseIndex: number; cases: number; done: number; total: number }) => void,
  ): Promise<MetricsReport> {
    const model = this.modelFor(task);
    this.loadGlobal(task, blob, model, task.excludeNormalization);
    // Full validation volumes by sliding-window inference; per foreground class and averaged: Dice, HD95 and
    // ASSD in mm at each case's spacing (evaluation-metrics.ts names them; NaN, i.e. undefined, is left out).
    const cases: readonly EvaluationCase[] = this.data.forPlan(task.plan.data).val;
    if (cases.some((c) => c.spacingMm === undefined))
      this.log.warn('validation cases carry no voxel spacing: HD95 and ASSD are reported in voxels, not mm');
    // Testing aid (--dump-updates): each validation case's predicted label map is written beside the updates,
    // so an end-to-end test can recompute the metrics independently. It never leaves the site.
    const dumpDir = this.options.dumpUpdates;
    const dumpBase =
      dumpDir && path.join(dumpDir, `${task.studyId}-round-${task.round}-${this.options.site}`);
    if (dumpDir) await fs.mkdir(dumpDir, { recursive: true });
    let caseIndex = 0;
    const metrics =
      cases.length > 0
        ? evaluationMetrics(
            await evaluateSegmentation(model, cases, {
              // Windows of the training patch size (nnU-Net): normalization sees the extent it trained on.
              patchSize: task.plan.training.patchSize,
              // With a data plan the cases are raw and native: segmented on the plan's grid, scored back here.
              planGrid: task.plan.data && {
                targetSpacingMm: task.plan.data.targetSpacingMm,
                normalization: task.plan.data.normalization,
              },
              // Window batches per case; a case's last batch has done === total, so the next one starts afresh.
              onProgress: onProgress
                ? ({ done, total }) => {
                    onProgress({ caseIndex, cases: cases.length, done, total });
                    if (done >= total) caseIndex++;
                  }
                : undefined,
              onPrediction: dumpBase
                ? (index, predicted) => fs.writeFile(`${dumpBase}-val-${index}.labels`, predicted)
                : undefined,
            }),
          )
        : {};
    return {
      taskId: task.taskId,
      studyId: task.studyId,
      round: task.round,
      split: 'val',
      samples: cases.length,
      metrics,
    };
  }

  dispose(): void {
    for (const m of this.models.values()) m.dispose();
    this.models.clear();
  }
}
