import {
  AggregationError,
  StreamingAggregator,
  addFixedPoint,
  applyDelta,
  clipScale,
  createAggregator,
  decodeFixedPoint,
  decodeUpdate,
  l2Norm,
  privacyStatus,
  type StrategyState,
} from '@fedseg/aggregation';
import { decodeTensors, planHash, type MaskingContext, type SignedTask, type Task } from '@fedseg/protocol';
import { studyPlanOf } from '../consent/consent.service';
import type { Logger } from '../common/logger';
import type { AuditRepository } from '../audit/audit.repository';
import type { BlobStore } from '../storage/blob-store';
import { sha256Hex } from '../storage/blob-store';
import type { SiteRegistry } from '../sites/site-registry.service';
import type { StudiesRepository, StudyRecord } from '../studies/studies.repository';
import type { GlobalModel, GlobalModelService } from './global-model.service';
import type { RoundEvents } from './round-events';
import type { MetricInput, RoundRecord as Round, RoundsRepository, UpdateRecord } from './rounds.repository';
import {
  RECONNECT_GRACE_MS,
  afterRoundFailure,
  decideRound,
  stepRound,
  type RoundState,
} from './round-engine';
import {
  PHASE_OF_STATUS,
  decidePhase,
  maxSitesFor,
  type SecAggRoundStatus,
} from './secure-aggregation-phase';
import type { SecureRound } from './secure-round';
import { selectSites } from './site-selection';
import { taskIdFor } from './task-id';
import { Wakeup } from './wakeup';
import { setTimeout as delay } from 'node:timers/promises';
import { needsFingerprint, type FingerprintPhase } from '../fingerprint/fingerprint-phase';
import { weightedMean } from './weighted-mean';
import { faultPoint } from '../ops/fault-points';
import { isDatabaseUnavailable } from '../database/unavailable';

/** How long a woken round waits for more answers before re-reading its state. */
const WAKE_COALESCE_MS = 25;

export interface StudyRunnerDeps {
  studies: StudiesRepository;
  rounds: RoundsRepository;
  audit: AuditRepository;
  globalModels: GlobalModelService;
  registry: SiteRegistry;
  blobs: BlobStore;
  events: RoundEvents;
  log: Logger;
  /** The coordinator signs every task it sends. */
  signTask(task: Task): SignedTask;
  /** Of the candidate site ids, those whose admins approved the study's current plan. */
  consenting(study: StudyRecord, candidates: readonly string[]): Promise<string[]>;
  /** Reads, requests and the unmasked sum of secure-aggregation rounds. */
  secure: SecureRound;
  /** Issue 18: the data fingerprint phase before round 1 (absent: studies plan their data by hand). */
  fingerprint?: FingerprintPhase;
}

/**
 * Drives one study's rounds: select -> train -> aggregate -> commit -> evaluate -> next. Every step reads
 * its state from the database and writes the transition before announcing it, so a runner started after a
 * coordinator restart picks up exactly where the previous one stopped.
 */
export class StudyRunner {
  private readonly wake = new Wakeup();
  private stopped = false;
  /** siteId -> connection the current task was sent on; resend when the site reconnects. */
  private sentOn = new Map<string, string>();
  private declined = new Set<string>();
  private readonly offRegistry: () => void;
  private readonly startedAt = Date.now();
  /** Consecutive attempts that found the database unreachable (backoff). */
  private unavailableFor = 0;
  readonly done: Promise<void>;

  constructor(
    readonly studyId: string,
    private readonly deps: StudyRunnerDeps,
  ) {
    const onChange = () => this.wake.notify();
    deps.registry.events.on('online', onChange);
    deps.registry.events.on('released', onChange);
    this.offRegistry = () => {
      deps.registry.events.off('online', onChange);
      deps.registry.events.off('released', onChange);
    };
    this.done = this.loop();
  }

  notify(): void {
    this.wake.notify();
  }

  declineTask(siteId: string, kind: 'train' | 'evaluate'): void {
    this.declined.add(`${kind}:${siteId}`);
    this.wake.notify();
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.wake.notify();
    return this.done;
  }

  private async loop(): Promise<void> {
    const { log } = this.deps;
    try {
      while (!this.stopped) {
        try {
          return await this.drive();
        } catch (err) {
          if (!isDatabaseUnavailable(err)) throw err;
          // Every step reads its state from the database and writes before it announces, so the runner can
          // start over once the database is back: nothing half-done is kept in memory.
          this.unavailableFor += 1;
          const waitMs = Math.min(1_000 * 2 ** Math.min(this.unavailableFor - 1, 4), 15_000);
          log.warn(
            { studyId: this.studyId, retryInMs: waitMs, err: (err as Error).message },
            'database unreachable; the study runner retries',
          );
          await this.wake.wait(waitMs);
        }
      }
    } catch (err) {
      log.error({ err, studyId: this.studyId }, 'study runner failed; the study is paused');
      await this.pause(`internal error: ${(err as Error).message}`).catch(() => undefined);
    } finally {
      this.offRegistry();
    }
  }

  /** The study's rounds, one step at a time, until it stops running or the runner is stopped. */
  private async drive(): Promise<void> {
    while (!this.stopped) {
      const study = await this.deps.studies.get(this.studyId);
      this.unavailableFor = 0;
      if (study.status !== 'running') return;
      const round = await this.deps.rounds.latestRound(study.id);
      if (!round && this.deps.fingerprint && needsFingerprint(study.config)) {
        // Before round 1 (and before round 0's weights, whose network size the plan decides).
        const pauseReason = await this.deps.fingerprint.run(study, {
          eligibleSites: () => this.eligibleSites(study),
          stopped: () => this.stopped,
          wait: async (ms) => void (await this.wake.wait(ms)),
          notify: () => this.wake.notify(),
        });
        if (pauseReason) await this.pause(pauseReason);
        continue;
      }
      if (!round || round.status === 'completed' || round.status === 'failed') {
        if (study.roundsDone >= study.config.rounds) {
          await this.finishStudy(study, null);
          return;
        }
        const privacy = privacyStatus(study.config.privacy, study.roundsDone);
        if (privacy.exhausted) {
          await this.finishStudy(
            study,
            `privacy budget spent: epsilon ${privacy.epsilon.toFixed(3)} after ${study.roundsDone} round(s); one more would reach ` +
              `${privacy.epsilonNextRound.toFixed(3)} > ${privacy.epsilonBudget} (delta ${privacy.delta})`,
          );
          return;
        }
        await this.startRound(study, (round?.index ?? 0) + 1);
        continue;
      }
      if (study.config.secureAggregation && isSecAggStatus(round.status))
        await this.secureAggregationPhase(study, round, round.status);
      else await this.driveRound(study, round);
    }
  }

  private async pause(reason: string): Promise<void> {
    await this.deps.rounds.transaction(async (tx) => {
      await this.deps.studies.setStatus(this.studyId, 'paused', reason, tx);
      await this.deps.audit.record(
        { actor: 'system', action: 'study.paused', subject: this.studyId, details: { reason } },
        tx,
      );
    });
    this.deps.events.emit({ type: 'study-status', studyId: this.studyId, status: 'paused', reason });
    this.deps.log.warn({ studyId: this.studyId, reason }, 'study paused');
  }

  private async finishStudy(study: StudyRecord, reason: string | null): Promise<void> {
    await this.deps.rounds.transaction(async (tx) => {
      await this.deps.studies.setStatus(study.id, 'completed', reason, tx);
      await this.deps.audit.record(
        { actor: 'system', action: 'study.completed', subject: study.id, details: { reason } },
        tx,
      );
    });
    this.deps.events.emit({ type: 'study-status', studyId: study.id, status: 'completed', reason });
    this.deps.log.info({ studyId: study.id, rounds: study.roundsDone }, 'study completed');
  }

  private async startRound(study: StudyRecord, index: number): Promise<void> {
    const cfg = study.config;
    await this.deps.globalModels.latest(study); // make sure round 0 exists before anyone is asked to train
    const waitUntil = Date.now() + cfg.siteWaitMs;
    let eligible = await this.eligibleSites(study);
    while (eligible.length < cfg.minSites) {
      if (this.stopped) return;
      if (Date.now() >= waitUntil) {
        await this.pause(
          `only ${eligible.length} site(s) online that approved the current plan after ${Math.round(cfg.siteWaitMs / 1000)} s; minSites is ${cfg.minSites}${cfg.consent.policy === 'all-invited' ? ' (and every invited site must approve)' : ''}. Start the study again once sites approved it (fedseg-agent approve) and are online.`,
        );
        return;
      }
      await this.wake.wait(Math.min(1000, waitUntil - Date.now()));
      if ((await this.deps.studies.get(study.id)).status !== 'running') return;
      eligible = await this.eligibleSites(study);
    }
    const secure = cfg.secureAggregation;
    // Masked rounds select at most 2t - 1 sites (see SecureAggregationConfig.threshold).
    const perRound = secure
      ? Math.min(cfg.sitesPerRound ?? Number.MAX_SAFE_INTEGER, maxSitesFor(secure.threshold))
      : cfg.sitesPerRound;
    const selected = selectSites(eligible, perRound, cfg.training.seed * 100_003 + index);
    const deadlineAt = new Date(Date.now() + cfg.roundDeadlineMs);
    const round = await this.deps.rounds.transaction(async (tx) => {
      const created = await this.deps.rounds.createRound(
        {
          studyId: study.id,
          index,
          selectedSiteIds: selected,
          deadlineAt,
          ...(secure
            ? {
                status: 'advertising' as const,
                phaseDeadlineAt: new Date(Date.now() + secure.phaseDeadlineMs),
              }
            : {}),
        },
        tx,
      );
      await this.deps.audit.record(
        {
          actor: 'system',
          action: 'round.started',
          subject: study.id,
          details: { round: index, sites: selected },
        },
        tx,
      );
      return created;
    });
    this.deps.registry.markBusy(selected, study.id);
    this.sentOn = new Map();
    this.declined = new Set();
    this.deps.events.emit({
      type: 'round-started',
      studyId: study.id,
      round: index,
      siteIds: selected,
      deadlineAt: deadlineAt.toISOString(),
    });
    this.deps.log.info({ studyId: study.id, round: index, sites: selected.length }, 'round started');
    void round;
  }

  /** Online, invited, not too busy, and consenting to the current plan. */
  private async eligibleSites(study: StudyRecord): Promise<string[]> {
    const online = this.deps.registry.eligible(study.id, study.config.sites).map((s) => s.siteId);
    return this.deps.consenting(study, online);
  }

  /** Sends the task to every listed site that is online and has not had it on its current connection. */
  private async sendTasks(
    study: StudyRecord,
    round: Round,
    siteIds: Iterable<string>,
    kind: 'train' | 'evaluate',
    global: GlobalModel,
    deadlineAt: Date,
    masking?: (siteId: string) => Promise<MaskingContext>,
  ): Promise<void> {
    for (const siteId of siteIds) {
      const online = this.deps.registry.get(siteId);
      if (!online || this.sentOn.get(`${kind}:${siteId}`) === online.connection.connectionId) continue;
      const plan = studyPlanOf(study.id, study.config);
      const secureAggregation = kind === 'train' && masking ? await masking(siteId) : undefined;
      const task: Task = {
        ...(secureAggregation ? { secureAggregation } : {}),
        kind,
        taskId: taskIdFor(study.id, round.index, siteId, kind),
        studyId: study.id,
        round: round.index,
        plan,
        planHash: planHash(plan),
        globalSha256: global.sha256,
        deadlineAt: deadlineAt.toISOString(),
        excludeNormalization: study.config.training.fedBn,
      };
      this.deps.registry.sendTask(siteId, this.deps.signTask(task), global.blob);
      this.sentOn.set(`${kind}:${siteId}`, online.connection.connectionId);
      if (kind === 'train') faultPoint('dispatch');
    }
  }

  /**
   * A round of a masked study before aggregation: each key phase asks its sites for a signed message and
   * training collects masked updates; decidePhase says when to move on or fail. Requests are re-sent to a
   * site that reconnected (sites answer them idempotently).
   */
  private async secureAggregationPhase(
    study: StudyRecord,
    round: Round,
    status: SecAggRoundStatus,
  ): Promise<void> {
    const cfg = study.config;
    const secure = cfg.secureAggregation!;
    this.deps.registry.markBusy(round.selectedSiteIds, study.id);
    const global = status === 'training' ? await this.deps.globalModels.latest(study) : null;
    while (!this.stopped) {
      const participants = await this.deps.secure.participants(round);
      const deadline = status === 'training' ? round.deadlineAt : (round.phaseDeadlineAt ?? round.deadlineAt);
      const decision = decidePhase({
        status,
        round: round.index,
        participants,
        declined: new Set(round.selectedSiteIds.filter((id) => this.declined.has(`train:${id}`))),
        threshold: secure.threshold,
        minSites: cfg.minSites,
        now: Date.now(),
        deadline: deadline.getTime(),
      });
      if (decision.kind === 'fail') return this.failRound(study, round, decision.reason);
      if (decision.kind === 'advance') return this.advanceSecureRound(study, round, decision.to);
      if (global) {
        await this.sendTasks(study, round, decision.pending, 'train', global, round.deadlineAt, (siteId) =>
          this.deps.secure.maskingContext(study, round, siteId, participants),
        );
      } else {
        const phase = PHASE_OF_STATUS[status as Exclude<SecAggRoundStatus, 'training'>];
        const request = await this.deps.secure.request(study, round, phase, participants);
        for (const siteId of decision.pending) {
          const online = this.deps.registry.get(siteId);
          if (!online || this.sentOn.get(`${phase}:${siteId}`) === online.connection.connectionId) continue;
          this.deps.registry.sendSecAgg(siteId, request);
          this.sentOn.set(`${phase}:${siteId}`, online.connection.connectionId);
        }
      }
      await this.wake.wait(Math.max(0, Math.min(deadline.getTime() - Date.now(), 5_000)));
      if ((await this.deps.studies.get(study.id)).status !== 'running') return;
    }
  }

  private async advanceSecureRound(
    study: StudyRecord,
    round: Round,
    to: 'sharing' | 'training' | 'unmasking' | 'aggregating',
  ): Promise<void> {
    const now = Date.now();
    const phaseDeadlineAt = new Date(now + study.config.secureAggregation!.phaseDeadlineMs);
    if (to === 'training')
      await this.deps.rounds.setRoundStatus(round.id, to, {
        deadlineAt: new Date(now + study.config.roundDeadlineMs),
        phaseDeadlineAt: null,
      });
    else if (to === 'aggregating')
      await this.deps.rounds.setRoundStatus(round.id, to, { phaseDeadlineAt: null });
    else await this.deps.rounds.setRoundStatus(round.id, to, { phaseDeadlineAt });
    this.deps.events.emit({ type: 'round-phase', studyId: study.id, round: round.index, phase: to });
    this.deps.log.info(
      { studyId: study.id, round: round.index, phase: to },
      'secure aggregation: next phase',
    );
  }

  /**
   * A plain round (and a masked one from `aggregating` on), driven by the round engine: the state is read
   * from the database and this runner's memory, decideRound says what to do, and this method does it.
   */
  private async driveRound(study: StudyRecord, round: Round): Promise<void> {
    this.deps.registry.markBusy(round.selectedSiteIds, study.id); // after a restart, busy marks are rebuilt here
    const global = await this.deps.globalModels.latest(study);
    while (!this.stopped) {
      const fresh = await this.deps.studies.get(study.id);
      let { state, effects } = decideRound(await this.roundState(fresh, round), Date.now());
      for (let i = 0; i < effects.length; i++) {
        const effect = effects[i]!;
        switch (effect.type) {
          case 'halt':
            return;
          case 'send-tasks': {
            const deadline =
              effect.kind === 'train' ? round.deadlineAt : new Date(state.evaluationDeadline ?? Date.now());
            await this.sendTasks(study, round, effect.siteIds, effect.kind, global, deadline);
            if (effect.kind === 'evaluate' && state.reported.size > 0) faultPoint('mid-evaluation');
            break;
          }
          case 'persist-status':
            await this.deps.rounds.setRoundStatus(round.id, effect.status);
            break;
          case 'aggregate': {
            const failure = await this.aggregate(study, round, global, effect.siteIds);
            if (!failure) return;
            ({ state, effects } = stepRound(
              state,
              { type: 'aggregation-failed', reason: failure },
              Date.now(),
            ));
            i = -1;
            break;
          }
          case 'complete':
            return this.completeRound(study, round);
          case 'fail':
            return this.failRound(study, round, effect.reason);
          case 'wait':
            // A round's answers come in bursts (one per site): a short pause after a wakeup lets one re-read
            // of the round count many of them.
            if (await this.wake.wait(Math.max(0, Math.min(effect.until - Date.now(), 5_000))))
              await delay(Math.min(WAKE_COALESCE_MS, Math.max(0, effect.until - Date.now())));
            break;
        }
      }
    }
  }

  /** The engine's view of a round: its row, the answers recorded so far, and who is connected now. */
  private async roundState(study: StudyRecord, round: Round): Promise<RoundState> {
    const cfg = study.config;
    const status =
      round.status === 'evaluating' || round.status === 'aggregating' ? round.status : 'training';
    const updates = await this.deps.rounds.answeredSites(round.id);
    const evaluating = status === 'evaluating';
    const aggregatedAt = (round.aggregatedAt ?? new Date()).getTime();
    const evaluationMs = Math.min(cfg.evaluationDeadlineMs, cfg.roundDeadlineMs);
    const online = new Set(round.selectedSiteIds.filter((id) => this.deps.registry.get(id)));
    const extraEvaluators = evaluating ? new Set(await this.eligibleSites(study)) : new Set<string>();
    for (const id of extraEvaluators) online.add(id);
    return {
      index: round.index,
      status,
      selected: round.selectedSiteIds,
      minSites: cfg.minSites,
      trainingDeadline: round.deadlineAt.getTime(),
      evaluationDeadline: evaluating ? aggregatedAt + evaluationMs : null,
      // After a coordinator restart every site is offline for a moment: the grace counts from this runner's start.
      reconnectGraceUntil: evaluating
        ? Math.max(aggregatedAt, this.startedAt) + Math.min(RECONNECT_GRACE_MS, evaluationMs)
        : null,
      updates,
      reported: evaluating
        ? await this.deps.rounds.siteMetricKeys(study.id, round.index, 'val')
        : new Set<string>(),
      declinedTraining: new Set(round.selectedSiteIds.filter((id) => this.declined.has(`train:${id}`))),
      declinedEvaluation: new Set(
        [...round.selectedSiteIds, ...extraEvaluators].filter((id) => this.declined.has(`evaluate:${id}`)),
      ),
      online,
      extraEvaluators,
      studyRunning: study.status === 'running',
      failureReason: null,
    };
  }

  /**
   * Marks the round FAILED with its reason (the model stays as it was). The study then retries with a new
   * round while its roundRetries last, or pauses for a person to look.
   */
  private async failRound(study: StudyRecord, round: Round, reason: string): Promise<void> {
    const decision = await this.deps.rounds.transaction(async (tx) => {
      await this.deps.rounds.setRoundStatus(round.id, 'failed', { failureReason: reason }, tx);
      const decision = afterRoundFailure(
        study.config.roundRetries,
        await this.deps.rounds.trailingFailures(study.id, tx),
      );
      if (decision.action === 'pause') await this.deps.studies.setStatus(study.id, 'paused', reason, tx);
      await this.deps.audit.record(
        {
          actor: 'system',
          action: 'round.failed',
          subject: study.id,
          details: { round: round.index, reason, next: decision.action },
        },
        tx,
      );
      return decision;
    });
    this.deps.registry.release(round.selectedSiteIds, study.id);
    this.deps.events.emit({ type: 'round-failed', studyId: study.id, round: round.index, reason });
    if (decision.action === 'pause')
      this.deps.events.emit({ type: 'study-status', studyId: study.id, status: 'paused', reason });
    this.deps.log.warn(
      { studyId: study.id, round: round.index, reason, next: decision.action },
      'round failed',
    );
  }

  /** Aggregates exactly the given sites' updates and commits the model; returns why it could not, if so. */
  private async aggregate(
    study: StudyRecord,
    round: Round,
    global: GlobalModel,
    siteIds: readonly string[],
  ): Promise<string | null> {
    // In site order, not arrival order: float32 sums depend on their order, and a round must give the same
    // model however the network ordered the updates (a plain run's rounds then repeat bit for bit).
    const chosen = new Set(siteIds);
    const updates = (await this.deps.rounds.updatesOf(round.id))
      .filter((u) => u.status !== 'rejected' && chosen.has(u.siteId))
      .sort((a, b) => (a.siteId < b.siteId ? -1 : a.siteId > b.siteId ? 1 : 0));
    let result: { weights: Float32Array; state: StrategyState | null };
    if (study.config.secureAggregation) {
      try {
        result = await this.deps.secure.aggregate(study, round, global, updates);
      } catch (err) {
        if (!(err instanceof AggregationError)) throw err;
        return `secure aggregation could not unmask round ${round.index}: ${err.message}`;
      }
    } else {
      try {
        result = await this.aggregatePlain(study, global, updates);
      } catch (err) {
        // A strategy that cannot aggregate these updates fails the round; retrying would fail the same way.
        if (!(err instanceof AggregationError)) throw err;
        return `round ${round.index} could not be aggregated: ${err.message}`;
      }
    }
    const stored = await this.deps.globalModels.store(
      study.id,
      round.index,
      { manifest: global.weights.manifest, data: result.weights },
      result.state,
    );
    faultPoint('mid-aggregation');
    const trainLoss = weightedMean(
      updates.map((u) => ({ value: u.trainLoss ?? Number.NaN, samples: u.samples })),
    );
    const metrics: MetricInput[] = updates
      .filter((u) => u.trainLoss !== null)
      .map((u) => ({
        studyId: study.id,
        roundIndex: round.index,
        siteId: u.siteId,
        split: 'train',
        name: 'loss',
        value: u.trainLoss!,
        samples: u.samples,
      }));
    if (trainLoss !== null) {
      metrics.push({
        studyId: study.id,
        roundIndex: round.index,
        siteId: null,
        split: 'train',
        name: 'loss',
        value: trainLoss,
        samples: updates.reduce((n, u) => n + u.samples, 0),
      });
    }
    await this.deps.rounds.transaction(async (tx) => {
      await this.deps.globalModels.commitRow(
        {
          studyId: study.id,
          roundIndex: round.index,
          roundId: round.id,
          key: stored.key,
          sha256: stored.sha256,
          bytes: stored.bytes,
          stateRef: stored.stateRef,
        },
        tx,
      );
      await this.deps.rounds.markUpdatesAggregated(
        round.id,
        updates.map((u) => u.id),
        tx,
      );
      await this.deps.rounds.addMetrics(metrics, tx);
      await this.deps.rounds.setRoundStatus(round.id, 'evaluating', { aggregatedAt: new Date() }, tx);
      await this.deps.audit.record(
        {
          actor: 'system',
          action: 'round.aggregated',
          subject: study.id,
          details: { round: round.index, updates: updates.length, sha256: stored.sha256 },
        },
        tx,
      );
    });
    this.deps.globalModels.remember(study.id, round.index, stored.blob, stored.sha256, result.state);
    this.deps.events.emit({
      type: 'round-aggregated',
      studyId: study.id,
      round: round.index,
      sites: updates.length,
      trainLoss,
    });
    this.deps.log.info(
      { studyId: study.id, round: round.index, updates: updates.length, trainLoss },
      'round aggregated',
    );
    return null;
  }

  /**
   * Plain updates, streamed: one in memory at a time. Mean-based strategies sum the weighted deltas exactly,
   * in the same 64-bit fixed point as secure aggregation (addFixedPoint): the sum does not depend on the order
   * of the updates, and a study gives the same model bit for bit with or without masking. Coordinator-side
   * clipping (updateNormBound, central DP) scales each delta first, as StreamingAggregator.add would.
   * Robust strategies (median, trimmed mean, Krum) need the individual weights.
   */
  private async aggregatePlain(
    study: StudyRecord,
    global: GlobalModel,
    updates: readonly UpdateRecord[],
  ): Promise<{ weights: Float32Array; state: StrategyState | null }> {
    const { strategy, privacy } = study.config;
    const aggregator = createAggregator(strategy, {
      global: global.weights.data,
      state: global.state,
      expectedSites: updates.length,
      privacy,
    });
    const deltas = async function* (blobs: BlobStore) {
      for (const update of updates) {
        const blob = await blobs.get(update.storageKey);
        if (sha256Hex(blob) !== update.sha256)
          throw new Error(`stored update ${update.id} no longer matches its digest`);
        yield { update, delta: decodeUpdate(decodeTensors(blob)) };
      }
    };
    if (aggregator instanceof StreamingAggregator) {
      const central = privacy.mode === 'central';
      const bounds = [
        'updateNormBound' in strategy ? strategy.updateNormBound : undefined,
        central ? privacy.clipNorm : undefined,
      ].filter((b): b is number => b !== undefined);
      const bound = bounds.length > 0 ? Math.min(...bounds) : undefined;
      const sum = new Uint32Array(global.weights.data.length * 2);
      let totalWeight = 0;
      for await (const { update, delta } of deltas(this.deps.blobs)) {
        const scale = bound === undefined ? 1 : clipScale(l2Norm(delta), bound, update.siteId);
        // DP-FedAvg's sensitivity bound holds for equal weights only (McMahan et al., 2018).
        const weight = central ? 1 : update.samples;
        addFixedPoint(sum, delta, weight * scale);
        totalWeight += weight;
      }
      aggregator.addSecureSum({
        deltaSum: decodeFixedPoint(sum),
        totalWeight,
        siteIds: updates.map((u) => u.siteId),
      });
      return aggregator.finish();
    }
    for await (const { update, delta } of deltas(this.deps.blobs)) {
      aggregator.add({
        siteId: update.siteId,
        samples: update.samples,
        weights: applyDelta(global.weights.data, delta),
      });
    }
    return aggregator.finish();
  }

  private async completeRound(study: StudyRecord, round: Round): Promise<void> {
    const siteMetrics = (
      await this.deps.rounds.metricsOf(study.id, { roundIndex: round.index, split: 'val' })
    ).filter((m) => m.siteId !== null);
    const names = [...new Set(siteMetrics.map((m) => m.name))];
    const aggregates: MetricInput[] = [];
    for (const name of names) {
      const mean = weightedMean(
        siteMetrics.filter((m) => m.name === name).map((m) => ({ value: m.value, samples: m.samples ?? 0 })),
      );
      if (mean !== null) {
        aggregates.push({
          studyId: study.id,
          roundIndex: round.index,
          siteId: null,
          split: 'val',
          name,
          value: mean,
          samples: siteMetrics.filter((m) => m.name === name).reduce((n, m) => n + (m.samples ?? 0), 0),
        });
      }
    }
    const updates = await this.deps.rounds.updatesOf(round.id);
    await this.deps.rounds.transaction(async (tx) => {
      await this.deps.rounds.addMetrics(aggregates, tx);
      await this.deps.rounds.setRoundStatus(round.id, 'completed', { completedAt: new Date() }, tx);
      const fresh = await this.deps.studies.get(study.id, tx);
      const epsilon =
        study.config.privacy.mode === 'none'
          ? null
          : privacyStatus(study.config.privacy, fresh.roundsDone + 1).epsilon;
      await this.deps.studies.setRoundsDone(study.id, fresh.roundsDone + 1, epsilon, tx);
      await this.deps.audit.record(
        { actor: 'system', action: 'round.completed', subject: study.id, details: { round: round.index } },
        tx,
      );
    });
    this.deps.registry.release(round.selectedSiteIds, study.id);
    const trainLoss = (
      await this.deps.rounds.metricsOf(study.id, { roundIndex: round.index, split: 'train', siteId: null })
    ).find((m) => m.name === 'loss');
    const valDice = aggregates.find((m) => m.name === 'dice')?.value ?? null;
    this.deps.events.emit({
      type: 'round-completed',
      studyId: study.id,
      round: round.index,
      sites: updates.length,
      trainLoss: trainLoss?.value ?? null,
      valDice,
    });
    this.deps.log.info({ studyId: study.id, round: round.index, valDice }, 'round completed');
  }
}

function isSecAggStatus(status: Round['status']): status is SecAggRoundStatus {
  return status === 'advertising' || status === 'sharing' || status === 'training' || status === 'unmasking';
}
