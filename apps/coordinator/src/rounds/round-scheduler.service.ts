import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AuditRepository } from '../audit/audit.repository';
import { childLogger } from '../common/logger';
import { BLOB_STORE } from '../core/tokens';
import type { BlobStore } from '../storage/blob-store';
import { SiteRegistry } from '../sites/site-registry.service';
import { StudiesRepository } from '../studies/studies.repository';
import { GlobalModelService } from './global-model.service';
import { RoundEvents } from './round-events';
import { RoundsRepository } from './rounds.repository';
import { StudyRunner } from './study-runner';
import { FingerprintPhase } from '../fingerprint/fingerprint-phase';
import { SignatureDomains, signMessage, type SecAggRequest, type Task } from '@fedseg/protocol';
import { SitesRepository } from '../sites/sites.repository';
import { SecureRound } from './secure-round';
import { ConsentService } from '../consent/consent.service';
import type { CoordinatorIdentity } from '../identity/coordinator-identity';
import { COORDINATOR_IDENTITY } from '../identity/identity.tokens';

/** One StudyRunner per running study; resumes running studies when the coordinator starts. */
@Injectable()
export class RoundSchedulerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly runners = new Map<string, StudyRunner>();
  private readonly log = childLogger('scheduler');
  private shuttingDown = false;

  constructor(
    private readonly studies: StudiesRepository,
    private readonly rounds: RoundsRepository,
    private readonly audit: AuditRepository,
    private readonly globalModels: GlobalModelService,
    private readonly registry: SiteRegistry,
    private readonly events: RoundEvents,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly consent: ConsentService,
    @Inject(COORDINATOR_IDENTITY) private readonly identity: CoordinatorIdentity,
    private readonly fingerprint: FingerprintPhase,
    private readonly sites: SitesRepository,
  ) {
    this.secure = new SecureRound({
      rounds: this.rounds,
      blobs: this.blobs,
      signingKeysOf: async (ids) =>
        new Map((await this.sites.byIds(ids)).map((s) => [s.id, s.publicKey ?? ''])),
      signRequest: (request: SecAggRequest) => ({
        request,
        signature: signMessage(
          SignatureDomains.secAggRequest,
          request,
          this.identity.secret.signingSecretKey,
        ),
      }),
    });
  }

  private readonly secure: SecureRound;

  async onApplicationBootstrap(): Promise<void> {
    for (const study of await this.studies.listByStatus('running')) {
      this.log.info({ studyId: study.id, roundsDone: study.roundsDone }, 'resuming study');
      this.ensureRunning(study.id);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    await Promise.all([...this.runners.values()].map((r) => r.stop()));
  }

  ensureRunning(studyId: string): void {
    if (this.shuttingDown || this.runners.has(studyId)) {
      this.runners.get(studyId)?.notify();
      return;
    }
    const runner = new StudyRunner(studyId, {
      studies: this.studies,
      rounds: this.rounds,
      audit: this.audit,
      globalModels: this.globalModels,
      registry: this.registry,
      blobs: this.blobs,
      events: this.events,
      log: this.log,
      signTask: (task: Task) => ({
        task,
        signature: signMessage(SignatureDomains.task, task, this.identity.secret.signingSecretKey),
      }),
      consenting: (study, candidates) => this.consent.consenting(study, candidates),
      secure: this.secure,
      fingerprint: this.fingerprint,
    });
    this.runners.set(studyId, runner);
    void runner.done.finally(() => {
      if (this.runners.get(studyId) === runner) this.runners.delete(studyId);
    });
  }

  notify(studyId: string): void {
    this.runners.get(studyId)?.notify();
  }

  declined(studyId: string, siteId: string, kind: 'train' | 'evaluate'): void {
    this.runners.get(studyId)?.declineTask(siteId, kind);
  }
}
