import crypto from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { decodeUpdate } from '@fedseg/aggregation';
import {
  MASKED_UPDATE_TENSOR,
  SECURE_AGGREGATION_CODEC,
  decodeTensors,
  type MetricsReport,
  type UpdateHeader,
  type UpdateSubmit,
} from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import { StudyNotFoundError, UpdateRejectedError } from '../common/errors';
import { BLOB_STORE } from '../core/tokens';
import type { BlobStore } from '../storage/blob-store';
import { studyRecordOf, type StudyRecord } from '../studies/studies.repository';
import { GlobalModelService } from './global-model.service';
import { RoundEvents } from './round-events';
import { RoundSchedulerService } from './round-scheduler.service';
import { DuplicateRowError, RoundsRepository, type RoundRecord } from './rounds.repository';
import { taskIdFor } from './task-id';
import { admitUpdate } from './round-engine';
import { UpdateRecorder } from './update-recorder';
import { MetricsRecorder } from './metrics-recorder';
import { BurstBatcher } from '../common/burst-batcher';
import { CoordinatorMetrics } from '../ops/coordinator-metrics.service';
import { faultPoint } from '../ops/fault-points';

/** The tensors each update codec writes (libs/aggregation's update codec); anything else is refused. */
const CODEC_TENSOR_PREFIX: Record<string, string> = {
  none: 'update.f32',
  fp16: 'update.f16',
  int8: 'update.i8',
  'top-k': 'update.topk.',
};

export interface SubmittingSite {
  siteId: string;
  name: string;
}

/**
 * What precheck found for an update it let begin, handed back with the update's bytes: neither the study's
 * config nor the round's identity and selection change while a round trains, and the round's status is
 * checked again where it counts, under the round's lock (UpdateRecorder).
 */
export interface AdmittedUpdate {
  study: StudyRecord;
  round: Pick<RoundRecord, 'id' | 'index' | 'selectedSiteIds'>;
}

/**
 * Accepts what agents send. Everything is checked before anything is written; a refused message changes
 * nothing. An accepted update is on disk and in the database before the agent's ack says so.
 */
@Injectable()
export class UpdatesService {
  constructor(
    private readonly rounds: RoundsRepository,
    private readonly audit: AuditRepository,
    private readonly globalModels: GlobalModelService,
    private readonly scheduler: RoundSchedulerService,
    private readonly events: RoundEvents,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly metrics: CoordinatorMetrics,
  ) {
    this.recorder = new UpdateRecorder(rounds, audit);
    this.metricsRecorder = new MetricsRecorder(rounds);
  }

  /** Updates' first messages come in bursts too (one per site): their checks read the database in batches. */
  private readonly admissions = new BurstBatcher<
    Pick<UpdateHeader, 'studyId' | 'round' | 'nonce'>,
    {
      study: StudyRecord;
      round: Pick<RoundRecord, 'id' | 'index' | 'status' | 'selectedSiteIds'>;
      nonceUsed: boolean;
    }
  >(
    (header) => `${header.studyId}/${header.round}`,
    async (headers) => {
      const { studyId, round } = headers[0]!;
      const found = await this.rounds.updateAdmission(
        studyId,
        round,
        headers.map((h) => h.nonce),
      );
      if (!found) return headers.map(() => ({ error: new StudyNotFoundError(studyId) }));
      const study = studyRecordOf(found.study);
      const admission = found.round;
      if (!admission)
        return headers.map(() => ({
          error: new UpdateRejectedError('ROUND_NOT_FOUND', `Study ${studyId} has no round ${round}.`),
        }));
      return headers.map((h) => ({
        value: { study, round: admission, nonceUsed: found.usedNonces.has(h.nonce) },
      }));
    },
  );

  /** Accepted updates and metrics are recorded in group commits (one transaction per burst, not per message). */
  private readonly recorder: UpdateRecorder;
  private readonly metricsRecorder: MetricsRecorder;

  /**
   * Checks a signed update header before any of its bytes are taken: the round is open and selected this
   * site, the task is this site's, the codec is the study's, the nonce was never used and the size is sane.
   */
  async precheck(
    site: SubmittingSite,
    header: UpdateHeader,
    maxUpdateBytes: number,
  ): Promise<AdmittedUpdate> {
    const { study, round, nonceUsed } = await this.admissions.submit(header);
    refuse(
      admitUpdate({ index: round.index, status: round.status, selected: round.selectedSiteIds }, site, false),
    );
    if (header.taskId !== taskIdFor(study.id, header.round, site.siteId, 'train'))
      throw new UpdateRejectedError(
        'TASK_MISMATCH',
        `Task ${header.taskId} is not site ${site.name}'s training task of round ${header.round}.`,
      );
    const codec = study.config.secureAggregation ? SECURE_AGGREGATION_CODEC : study.config.compression.codec;
    if (header.codec !== codec)
      throw new UpdateRejectedError(
        'CODEC_MISMATCH',
        `The study's updates use codec ${codec}, not ${header.codec}.`,
      );
    if (header.payloadBytes > maxUpdateBytes)
      throw new UpdateRejectedError(
        'UPDATE_TOO_LARGE',
        `The update is ${header.payloadBytes} bytes; this coordinator takes at most ${maxUpdateBytes}.`,
      );
    if (nonceUsed)
      throw new UpdateRejectedError(
        'NONCE_REUSED',
        'This update nonce was used before: a replay, or a sender that reuses nonces. Refused.',
      );
    return { study, round };
  }

  /**
   * Takes a whole update that precheck admitted (`admitted`) and whose bytes were checked against the signed
   * sha256 (`digest`, as the transfer computed it). Refuses it, storing nothing, unless it decodes to the
   * model's size; records it in the round unless the round closed meanwhile.
   */
  async submitUpdate(
    site: SubmittingSite,
    meta: UpdateSubmit,
    blob: Uint8Array,
    nonce: string,
    admitted: AdmittedUpdate,
    digest: string,
  ): Promise<{ updateId: string }> {
    const { study, round } = admitted;
    if (study.id !== meta.studyId || round.index !== meta.round || digest !== meta.sha256)
      throw new Error('submitUpdate: the update is not the one its precheck admitted'); // a caller's bug
    const expected = await this.globalModels.weightCount(study);
    const decodedBytes = study.config.secureAggregation
      ? await this.checkMaskedUpdate(site, round.id, blob, expected)
      : this.checkPlainUpdate(study.config.compression.codec, blob, expected);
    const key = `updates/${study.id}/round-${meta.round}/${site.siteId}-${crypto.randomUUID()}.fstn`;
    await this.blobs.put(key, blob);
    faultPoint('before-record');
    let updateId: string;
    try {
      updateId = await this.recorder.record({
        studyId: study.id,
        round,
        site,
        samples: meta.samples,
        wireBytes: blob.length,
        bytes: decodedBytes,
        sha256: digest,
        storageKey: key,
        nonce,
        trainLoss: meta.trainLoss ?? null,
      });
    } catch (err) {
      await this.blobs.delete(key);
      if (err instanceof DuplicateRowError && err.fields.includes('nonce'))
        throw new UpdateRejectedError('NONCE_REUSED', 'This update nonce was used before. Refused.');
      if (err instanceof DuplicateRowError)
        refuse(admitUpdate({ index: meta.round, status: 'training', selected: [site.siteId] }, site, true));
      throw err;
    }
    this.metrics.bytesIn.inc(blob.length);
    this.events.emit({
      type: 'update-received',
      studyId: study.id,
      round: meta.round,
      siteId: site.siteId,
      samples: meta.samples,
      trainLoss: meta.trainLoss,
    });
    this.scheduler.notify(study.id);
    return { updateId };
  }

  /** A plain update decodes with the study's codec into exactly one finite value per weight. Returns its decoded size. */
  private checkPlainUpdate(codec: string, blob: Uint8Array, expected: number): number {
    let delta: Float32Array;
    try {
      const tensors = decodeTensors(blob);
      const prefix = CODEC_TENSOR_PREFIX[codec];
      if (!tensors.every((t) => t.name.startsWith(prefix)))
        throw new Error(
          `the study's codec ${codec} sends ${prefix}* tensors, not ${tensors.map((t) => t.name).join(', ')}`,
        );
      delta = decodeUpdate(tensors, { readOnly: true });
    } catch (err) {
      throw new UpdateRejectedError('BAD_UPDATE', `The update does not decode: ${(err as Error).message}`);
    }
    if (delta.length !== expected) {
      throw new UpdateRejectedError(
        'MANIFEST_MISMATCH',
        `The update has ${delta.length} values; the global model has ${expected}.`,
      );
    }
    for (let i = 0; i < delta.length; i++) {
      if (!Number.isFinite(delta[i]!)) {
        throw new UpdateRejectedError(
          'NON_FINITE_UPDATE',
          `The update holds a non-finite value at index ${i}.`,
        );
      }
    }
    return delta.byteLength;
  }

  /**
   * A masked update is one ring vector (two 32-bit words per weight) from a site that shared its keys this
   * round. Its values are uniformly random by design: nothing else about them can be checked here.
   */
  private async checkMaskedUpdate(
    site: SubmittingSite,
    roundId: string,
    blob: Uint8Array,
    expected: number,
  ): Promise<number> {
    if (!(await this.rounds.secAggMessage(roundId, site.siteId, 'share')))
      throw new UpdateRejectedError(
        'SECAGG_NOT_PARTICIPANT',
        `Site ${site.name} did not share masking keys this round, so its masked update could never be unmasked.`,
      );
    let tensors;
    try {
      tensors = decodeTensors(blob);
    } catch (err) {
      throw new UpdateRejectedError('BAD_UPDATE', `The update does not decode: ${(err as Error).message}`);
    }
    const [tensor] = tensors;
    if (tensors.length !== 1 || tensor!.name !== MASKED_UPDATE_TENSOR || tensor!.dtype !== 'uint32')
      throw new UpdateRejectedError(
        'BAD_UPDATE',
        `A masked update is one uint32 tensor ${MASKED_UPDATE_TENSOR}.`,
      );
    if (tensor!.data.length !== 2 * expected)
      throw new UpdateRejectedError(
        'MANIFEST_MISMATCH',
        `The masked update has ${tensor!.data.length / 2} values; the global model has ${expected}.`,
      );
    return tensor!.data.byteLength;
  }

  async reportMetrics(site: SubmittingSite, report: MetricsReport): Promise<void> {
    // `cases` is always written, so a site whose metrics are all undefined (NaN: empty masks) still counts as reported.
    const rows = Object.entries({ ...report.metrics, cases: report.samples })
      .filter(([, value]) => Number.isFinite(value))
      .map(([name, value]) => ({
        studyId: report.studyId,
        roundIndex: report.round,
        siteId: site.siteId,
        split: report.split,
        name,
        value,
        samples: report.samples,
      }));
    await this.metricsRecorder.record({
      studyId: report.studyId,
      round: report.round,
      split: report.split,
      site,
      rows,
    });
    // A site's evaluation is stored and its ack not yet sent; with more than one evaluator, others are pending.
    if (report.split === 'val') faultPoint('mid-evaluation');
    this.events.emit({
      type: 'metrics-received',
      studyId: report.studyId,
      round: report.round,
      siteId: site.siteId,
      metrics: report.metrics,
    });
    this.scheduler.notify(report.studyId);
  }
}

/** Throws the round engine's refusal, if it has one. */
function refuse(refusal: { code: string; message: string } | null): void {
  if (refusal) throw new UpdateRejectedError(refusal.code, refusal.message);
}
