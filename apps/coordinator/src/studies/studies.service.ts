import { Injectable } from '@nestjs/common';
import { checkStrategyPrivacy } from '@fedseg/aggregation';
import { StudyConfig, parseOrThrow, type CheckpointList, type RoundSummary } from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import { StudyStateError } from '../common/errors';
import { RoundSchedulerService } from '../rounds/round-scheduler.service';
import { RoundEvents } from '../rounds/round-events';
import { RoundsRepository } from '../rounds/rounds.repository';
import { GlobalModelService } from '../rounds/global-model.service';
import { StudiesRepository, type StudyRecord } from './studies.repository';
import type { MetricRecord } from './study-view';
import { ConsentService } from '../consent/consent.service';

/** Study rules shared by REST, the CLI and (later) the dashboard. */
@Injectable()
export class StudiesService {
  constructor(
    private readonly studies: StudiesRepository,
    private readonly rounds: RoundsRepository,
    private readonly scheduler: RoundSchedulerService,
    private readonly audit: AuditRepository,
    private readonly events: RoundEvents,
    private readonly globalModels: GlobalModelService,
    private readonly consent: ConsentService,
  ) {}

  async create(input: unknown, actor: string): Promise<StudyRecord> {
    const config = parseOrThrow(StudyConfig, input, 'study config');
    checkStrategyPrivacy(config.strategy, config.privacy);
    return this.rounds.transaction(async (tx) => {
      const study = await this.studies.create(config, tx);
      await this.audit.record(
        { actor, action: 'study.created', subject: study.id, details: { name: config.name } },
        tx,
      );
      return study;
    });
  }

  get(id: string): Promise<StudyRecord> {
    return this.studies.get(id);
  }

  list(): Promise<StudyRecord[]> {
    return this.studies.list();
  }

  async start(id: string, actor: string): Promise<StudyRecord> {
    const study = await this.studies.get(id);
    if (study.status === 'completed' || study.status === 'failed') {
      throw new StudyStateError(`Study ${id} is ${study.status}; create a new study to train again.`, {
        status: study.status,
      });
    }
    if (study.status !== 'running') {
      await this.rounds.transaction(async (tx) => {
        await this.studies.setStatus(id, 'running', null, tx);
        await this.audit.record({ actor, action: 'study.started', subject: id }, tx);
      });
      this.events.emit({ type: 'study-status', studyId: id, status: 'running', reason: null });
    }
    this.scheduler.ensureRunning(id);
    return this.studies.get(id);
  }

  /** Takes effect between steps: no new round starts; the current one may still finish its step. */
  async pause(id: string, actor: string): Promise<StudyRecord> {
    const study = await this.studies.get(id);
    if (study.status !== 'running') {
      throw new StudyStateError(`Study ${id} is ${study.status}; only a running study can be paused.`, {
        status: study.status,
      });
    }
    await this.rounds.transaction(async (tx) => {
      await this.studies.setStatus(id, 'paused', 'paused by a user', tx);
      await this.audit.record({ actor, action: 'study.paused', subject: id }, tx);
    });
    this.events.emit({ type: 'study-status', studyId: id, status: 'paused', reason: 'paused by a user' });
    this.scheduler.notify(id);
    return this.studies.get(id);
  }

  /**
   * Ends a running or paused study for good: it becomes `completed` with the reason, keeps its checkpoints,
   * and takes no more rounds. Like pause it takes effect between steps; a round still open keeps the status
   * the runner last wrote (the dashboard shows it as stopped).
   */
  async stop(id: string, actor: string): Promise<StudyRecord> {
    const study = await this.studies.get(id);
    if (study.status !== 'running' && study.status !== 'paused') {
      throw new StudyStateError(
        `Study ${id} is ${study.status}; only a running or paused study can be stopped.`,
        { status: study.status },
      );
    }
    const reason = `stopped by a user after ${study.roundsDone} of ${study.config.rounds} rounds`;
    await this.rounds.transaction(async (tx) => {
      await this.studies.setStatus(id, 'completed', reason, tx);
      await this.audit.record({ actor, action: 'study.stopped', subject: id, details: { reason } }, tx);
    });
    this.events.emit({ type: 'study-status', studyId: id, status: 'completed', reason });
    this.scheduler.notify(id);
    return this.studies.get(id);
  }

  async roundSummaries(id: string): Promise<RoundSummary[]> {
    await this.studies.get(id);
    const [rounds, metrics, uplink] = await Promise.all([
      this.rounds.listRounds(id),
      this.rounds.metricsOf(id, { siteId: null }),
      this.studies.uplinkBytesByRound(id),
    ]);
    const pick = (index: number, split: string, name: string) =>
      metrics.find((m) => m.roundIndex === index && m.split === split && m.name === name)?.value ?? null;
    return rounds.map((r) => ({
      index: r.index,
      status: r.status,
      selectedSites: r.selectedSiteIds.length,
      updates: r._count.updates,
      uplinkBytes: uplink.get(r.id) ?? 0,
      deadlineAt: r.deadlineAt.toISOString(),
      startedAt: r.startedAt.toISOString(),
      completedAt: r.completedAt?.toISOString() ?? null,
      failureReason: r.failureReason,
      trainLoss: pick(r.index, 'train', 'loss'),
      valDice: pick(r.index, 'val', 'dice'),
    }));
  }

  async metrics(
    id: string,
    filter: { roundIndex?: number; split?: string; onlySiteId?: string },
  ): Promise<MetricRecord[]> {
    await this.studies.get(id);
    const rows = await this.rounds.metricsOf(id, { roundIndex: filter.roundIndex, split: filter.split });
    if (filter.onlySiteId === undefined) return rows;
    return rows.filter((m) => m.siteId === null || m.siteId === filter.onlySiteId);
  }

  /** A draft or paused study's config may change; its plan hash changes with it and sites must approve again. */
  async update(id: string, input: unknown, actor: string): Promise<StudyRecord> {
    const study = await this.studies.get(id);
    if (study.status !== 'draft' && study.status !== 'paused')
      throw new StudyStateError(`Study ${id} is ${study.status}; pause it before changing its config.`, {
        status: study.status,
      });
    const config = parseOrThrow(StudyConfig, input, 'study config');
    checkStrategyPrivacy(config.strategy, config.privacy);
    const before = this.consent.planOf(study).planHash;
    return this.rounds.transaction(async (tx) => {
      const updated = await this.studies.setConfig(id, config, tx);
      const after = this.consent.planOf(updated).planHash;
      await this.audit.record(
        {
          actor,
          action: 'study.updated',
          subject: id,
          details: { planHashBefore: before, planHashAfter: after },
        },
        tx,
      );
      return updated;
    });
  }

  async approvals(id: string) {
    return this.consent.listFor(await this.studies.get(id));
  }

  async declines(id: string) {
    await this.studies.get(id);
    const rows = await this.audit.eventsAbout('task.declined', id);
    return rows.map((r) => ({
      at: r.at.toISOString(),
      site: r.actor.replace(/^site:/, ''),
      ...(r.details as object),
    }));
  }

  /** Committed global models with the study-level figures of the round that produced each. */
  async checkpoints(id: string): Promise<CheckpointList> {
    await this.studies.get(id);
    const [rows, metrics] = await Promise.all([
      this.studies.checkpoints(id),
      this.rounds.metricsOf(id, { siteId: null }),
    ]);
    const pick = (round: number, split: string, name: string) =>
      metrics.find((m) => m.roundIndex === round && m.split === split && m.name === name)?.value ?? null;
    return rows.map((c) => ({
      round: c.roundIndex,
      sha256: c.sha256,
      bytes: c.bytes,
      createdAt: c.createdAt.toISOString(),
      trainLoss: pick(c.roundIndex, 'train', 'loss'),
      valDice: pick(c.roundIndex, 'val', 'dice'),
      valHd95Mm: pick(c.roundIndex, 'val', 'hd95'),
      valAssdMm: pick(c.roundIndex, 'val', 'assd'),
    }));
  }

  /** The encoded global model after `round` (latest when absent), for download. */
  async model(id: string, round?: number): Promise<{ blob: Uint8Array; sha256: string; round: number }> {
    await this.studies.get(id);
    const index = round ?? (await this.rounds.latestCheckpoint(id))?.roundIndex ?? 0;
    const found = await this.globalModels.blobOf(id, index);
    if (!found) throw new StudyStateError(`Study ${id} has no checkpoint for round ${index} yet.`);
    return { ...found, round: index };
  }
}
