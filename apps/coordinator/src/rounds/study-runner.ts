import { setTimeout as delay } from 'node:timers/promises';
import { privacyStatus } from '@fedseg/aggregation';
import type { SignedTask, Task } from '@fedseg/protocol';
import type { Logger } from '../common/logger';
import type { AuditRepository } from '../audit/audit.repository';
import type { BlobStore } from '../storage/blob-store';
import type { SiteRegistry } from '../sites/site-registry.service';
import type { StudiesRepository, StudyRecord } from '../studies/studies.repository';
import type { GlobalModel, GlobalModelService } from './global-model.service';
import type { RoundEvents } from './round-events';
import type { RoundRecord as Round, RoundsRepository } from './rounds.repository';
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
import { Wakeup } from './wakeup';
import { TaskDispatch } from './task-dispatch';
import { aggregateRound } from './round-aggregation';
import { trainingLossRows, validationMeanRows } from './round-metrics';
import { commitTransition } from './round-transition';
import { needsFingerprint, type FingerprintPhase } from '../fingerprint/fingerprint-phase';
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
  private readonly dispatch: TaskDispatch;
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
    this.dispatch = new TaskDispatch({ registry: deps.registry, signTask: deps.signTask });
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
    await commitTransition(this.deps, {
      write: (tx) => this.deps.studies.setStatus(this.studyId, 'paused', reason, tx),
      audit: { actor: 'system', action: 'study.paused', subject: this.studyId, details: { reason } },
      announce: () => [{ type: 'study-status', studyId: this.studyId, status: 'paused', reason }],
    });
    this.deps.log.warn({ studyId: this.studyId, reason }, 'study paused');
  }

  private async finishStudy(study: StudyRecord, reason: string | null): Promise<void> {
    await commitTransition(this.deps, {
      write: (tx) => this.deps.studies.setStatus(study.id, 'completed', reason, tx),
      audit: { actor: 'system', action: 'study.completed', subject: study.id, details: { reason } },
      announce: () => [{ type: 'study-status', studyId: study.id, status: 'completed', reason }],
    });
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
    this.dispatch.reset();
    this.declined = new Set();
    await commitTransition(this.deps, {
      write: (tx) =>
        this.deps.rounds.createRound(
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
        ),
      audit: {
        actor: 'system',
        action: 'round.started',
        subject: study.id,
        details: { round: index, sites: selected },
      },
      announce: () => {
        // Busy before anyone hears of the round, so no other study takes these sites meanwhile.
        this.deps.registry.markBusy(selected, study.id);
        return [
          {
            type: 'round-started',
            studyId: study.id,
            round: index,
            siteIds: selected,
            deadlineAt: deadlineAt.toISOString(),
          },
        ];
      },
    });
    this.deps.log.info({ studyId: study.id, round: index, sites: selected.length }, 'round started');
  }

  /** Online, invited, not too busy, and consenting to the current plan. */
  private async eligibleSites(study: StudyRecord): Promise<string[]> {
    const online = this.deps.registry.eligible(study.id, study.config.sites).map((s) => s.siteId);
    return this.deps.consenting(study, online);
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
        await this.dispatch.sendTasks(
          study,
          round,
          decision.pending,
          'train',
          global,
          round.deadlineAt,
          (siteId) => this.deps.secure.maskingContext(study, round, siteId, participants),
        );
      } else {
        const phase = PHASE_OF_STATUS[status as Exclude<SecAggRoundStatus, 'training'>];
        const request = await this.deps.secure.request(study, round, phase, participants);
        this.dispatch.sendSecAgg(decision.pending, phase, request);
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
            await this.dispatch.sendTasks(study, round, effect.siteIds, effect.kind, global, deadline);
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
    const decision = await commitTransition(this.deps, {
      write: async (tx) => {
        await this.deps.rounds.setRoundStatus(round.id, 'failed', { failureReason: reason }, tx);
        const decision = afterRoundFailure(
          study.config.roundRetries,
          await this.deps.rounds.trailingFailures(study.id, tx),
        );
        if (decision.action === 'pause') await this.deps.studies.setStatus(study.id, 'paused', reason, tx);
        return decision;
      },
      audit: (decision) => ({
        actor: 'system',
        action: 'round.failed',
        subject: study.id,
        details: { round: round.index, reason, next: decision.action },
      }),
      announce: (decision) => {
        this.deps.registry.release(round.selectedSiteIds, study.id);
        return [
          { type: 'round-failed', studyId: study.id, round: round.index, reason },
          ...(decision.action === 'pause'
            ? [{ type: 'study-status' as const, studyId: study.id, status: 'paused' as const, reason }]
            : []),
        ];
      },
    });
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
    const outcome = await aggregateRound(this.deps, study, round, global, updates);
    if ('failure' in outcome) return outcome.failure;
    const result = outcome;
    const stored = await this.deps.globalModels.store(
      study.id,
      round.index,
      { manifest: global.weights.manifest, data: result.weights },
      result.state,
    );
    faultPoint('mid-aggregation');
    const { trainLoss, rows: metrics } = trainingLossRows(study.id, round.index, updates);
    await commitTransition(this.deps, {
      write: async (tx) => {
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
      },
      audit: {
        actor: 'system',
        action: 'round.aggregated',
        subject: study.id,
        details: { round: round.index, updates: updates.length, sha256: stored.sha256 },
      },
      announce: () => {
        this.deps.globalModels.remember(study.id, round.index, stored.blob, stored.sha256, result.state);
        return [
          {
            type: 'round-aggregated',
            studyId: study.id,
            round: round.index,
            sites: updates.length,
            trainLoss,
          },
        ];
      },
    });
    this.deps.log.info(
      { studyId: study.id, round: round.index, updates: updates.length, trainLoss },
      'round aggregated',
    );
    return null;
  }

  private async completeRound(study: StudyRecord, round: Round): Promise<void> {
    const siteMetrics = (
      await this.deps.rounds.metricsOf(study.id, { roundIndex: round.index, split: 'val' })
    ).filter((m) => m.siteId !== null);
    const aggregates = validationMeanRows(study.id, round.index, siteMetrics);
    const sites = (await this.deps.rounds.answeredSites(round.id)).size;
    const trainLoss =
      (
        await this.deps.rounds.metricsOf(study.id, { roundIndex: round.index, split: 'train', siteId: null })
      ).find((m) => m.name === 'loss')?.value ?? null;
    const valDice = aggregates.find((m) => m.name === 'dice')?.value ?? null;
    await commitTransition(this.deps, {
      write: async (tx) => {
        await this.deps.rounds.addMetrics(aggregates, tx);
        await this.deps.rounds.setRoundStatus(round.id, 'completed', { completedAt: new Date() }, tx);
        const fresh = await this.deps.studies.get(study.id, tx);
        const epsilon =
          study.config.privacy.mode === 'none'
            ? null
            : privacyStatus(study.config.privacy, fresh.roundsDone + 1).epsilon;
        await this.deps.studies.setRoundsDone(study.id, fresh.roundsDone + 1, epsilon, tx);
      },
      audit: {
        actor: 'system',
        action: 'round.completed',
        subject: study.id,
        details: { round: round.index },
      },
      announce: () => {
        this.deps.registry.release(round.selectedSiteIds, study.id);
        return [
          { type: 'round-completed', studyId: study.id, round: round.index, sites, trainLoss, valDice },
        ];
      },
    });
    this.deps.log.info({ studyId: study.id, round: round.index, valDice }, 'round completed');
  }
}

function isSecAggStatus(status: Round['status']): status is SecAggRoundStatus {
  return status === 'advertising' || status === 'sharing' || status === 'training' || status === 'unmasking';
}
