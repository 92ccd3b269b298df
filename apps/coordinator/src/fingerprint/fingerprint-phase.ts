import { Inject, Injectable } from '@nestjs/common';
import { combineFingerprints, planFromFingerprint } from '@fedseg/imaging';
import {
  SignatureDomains,
  StudyConfig,
  parseOrThrow,
  planHash,
  signMessage,
  withDataPlan,
  type FingerprintRequest,
} from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import { childLogger } from '../common/logger';
import { studyPlanOf } from '../consent/consent.service';
import type { CoordinatorIdentity } from '../identity/coordinator-identity';
import { COORDINATOR_IDENTITY } from '../identity/identity.tokens';
import { RoundsRepository } from '../rounds/rounds.repository';
import { SiteRegistry } from '../sites/site-registry.service';
import { StudiesRepository, type StudyRecord } from '../studies/studies.repository';
import { FingerprintRepository } from './fingerprint.repository';
import { FingerprintWaiters } from './fingerprint-waiters';

/** What the study's runner lends the phase: who may be asked, and its own stop and wait. */
export interface FingerprintPhaseContext {
  /** Online, invited sites that approved the study's current plan. */
  eligibleSites(): Promise<string[]>;
  stopped(): boolean;
  /** Resolves after `ms`, or earlier when the runner is notified. */
  wait(ms: number): Promise<void>;
  notify(): void;
}

/** The study needs the phase: it plans from the fingerprint and has no data plan yet. */
export function needsFingerprint(config: StudyConfig): boolean {
  return config.data?.fingerprint === true && config.data.plan === undefined;
}

/**
 * The fingerprint phase before round 1 (issue 18). Every eligible site (online, invited, approved the current
 * plan, which says the fingerprint will be asked for) gets a signed request; once each asked site answered, or the
 * study's fingerprintDeadlineMs passed, and at least minSites sent one, the fingerprints are combined
 * (combineFingerprints), planned (planFromFingerprint with the researcher's overrides), and the plan is written
 * into the study's config in one transaction with its provenance and an audit entry. The plan hash changes, so
 * sites approve the planned study before round 1 selects them. Returns a reason to pause, or null.
 */
@Injectable()
export class FingerprintPhase {
  private readonly log = childLogger('fingerprint-phase');

  constructor(
    private readonly fingerprints: FingerprintRepository,
    private readonly studies: StudiesRepository,
    private readonly rounds: RoundsRepository,
    private readonly audit: AuditRepository,
    private readonly registry: SiteRegistry,
    private readonly waiters: FingerprintWaiters,
    @Inject(COORDINATOR_IDENTITY) private readonly identity: CoordinatorIdentity,
  ) {}

  async run(study: StudyRecord, ctx: FingerprintPhaseContext): Promise<string | null> {
    const data = study.config.data!;
    const deadlineAt = Date.now() + data.fingerprintDeadlineMs;
    const request: FingerprintRequest = {
      studyId: study.id,
      planHash: planHash(studyPlanOf(study.id, study.config)),
    };
    const signed = {
      request,
      signature: signMessage(
        SignatureDomains.fingerprintRequest,
        request,
        this.identity.secret.signingSecretKey,
      ),
    };
    const asked = new Set<string>();
    const onAnswer = () => ctx.notify();
    this.waiters.events.on(study.id, onAnswer);
    try {
      for (;;) {
        if (ctx.stopped()) return null;
        const received = await this.fingerprints.ofStudy(study.id);
        const answered = new Set([...received.map((r) => r.siteId), ...this.waiters.declinedSites(study.id)]);
        for (const siteId of await ctx.eligibleSites()) {
          if (asked.has(siteId) || answered.has(siteId)) continue;
          const connection = this.registry.get(siteId)?.connection;
          if (!connection?.sendFingerprintRequest) continue;
          connection.sendFingerprintRequest(signed);
          asked.add(siteId);
        }
        const waiting = [...asked].filter((s) => !answered.has(s) && this.registry.isOnline(s));
        const enough = received.length >= study.config.minSites;
        if (enough && waiting.length === 0)
          return await this.plan(
            study,
            received.map((r) => r.fingerprint),
          );
        if (Date.now() >= deadlineAt) {
          if (enough)
            return await this.plan(
              study,
              received.map((r) => r.fingerprint),
            );
          return (
            `fingerprint phase: ${received.length} site(s) sent a data fingerprint within ${Math.round(data.fingerprintDeadlineMs / 1000)} s; ` +
            `minSites is ${study.config.minSites}. Start the study again once enough approving sites are online.`
          );
        }
        await ctx.wait(Math.min(1_000, deadlineAt - Date.now()));
      }
    } finally {
      this.waiters.events.off(study.id, onAnswer);
    }
  }

  private async plan(
    study: StudyRecord,
    fingerprints: Parameters<typeof combineFingerprints>[0],
  ): Promise<null> {
    const combined = combineFingerprints(fingerprints);
    const { plan, reasons } = planFromFingerprint(combined, { overrides: study.config.data?.overrides });
    // Parsed again: the planned config must pass every rule a researcher's config does.
    const config = parseOrThrow(StudyConfig, withDataPlan(study.config, plan), 'planned study config');
    const before = planHash(studyPlanOf(study.id, study.config));
    const after = planHash(studyPlanOf(study.id, config));
    await this.rounds.transaction(async (tx) => {
      await this.studies.setConfig(study.id, config, tx);
      await this.fingerprints.savePlan(
        { studyId: study.id, combined, plan, reasons, sites: fingerprints.length },
        tx,
      );
      await this.audit.record(
        {
          actor: 'system',
          action: 'study.data-planned',
          subject: study.id,
          details: { sites: fingerprints.length, planHashBefore: before, planHashAfter: after },
        },
        tx,
      );
    });
    this.log.info(
      { studyId: study.id, sites: fingerprints.length, plan, planHash: after },
      'data plan made from the federated fingerprint; sites approve the new plan before round 1',
    );
    return null;
  }
}
