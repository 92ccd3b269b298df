import crypto from 'node:crypto';
import type { AuditInput, AuditRepository } from '../audit/audit.repository';
import { UpdateRejectedError } from '../common/errors';
import { admitUpdate } from './round-engine';
import type { RoundsRepository } from './rounds.repository';

/** An update whose bytes are checked and in the blob store, to be recorded as accepted by its round. */
export interface UpdateToRecord {
  studyId: string;
  round: { id: string; index: number; selectedSiteIds: readonly string[] };
  site: { siteId: string; name: string };
  samples: number;
  wireBytes: number;
  bytes: number;
  sha256: string;
  storageKey: string;
  nonce: string;
  trainLoss: number | null;
}

interface Pending {
  update: UpdateToRecord;
  resolve(updateId: string): void;
  reject(err: unknown): void;
}

type Outcome = { id: string } | { refusal: UpdateRejectedError };

/** Bounds one transaction's size; a bigger burst is written in several. */
const MAX_BATCH = 256;

/**
 * Group commit of accepted updates. Every update that arrives while a transaction is writing waits for the
 * next one, which records them all under one row lock on the round, with one insert and one audit append:
 * a burst of N sites costs a handful of transactions, not N. The round's status is checked under that lock
 * (round-engine admitUpdate), so an update racing the round's close is either recorded before the close or
 * refused; duplicates (a site's second update, a reused nonce) are refused, within the batch too.
 */
export class UpdateRecorder {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(
    private readonly rounds: RoundsRepository,
    private readonly audit: AuditRepository,
  ) {}

  /** Resolves with the update's id once it is committed; rejects with UpdateRejectedError when refused. */
  record(update: UpdateToRecord): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ update, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        const byRound = new Map<string, Pending[]>();
        for (const p of batch) byRound.set(p.update.round.id, [...(byRound.get(p.update.round.id) ?? []), p]);
        for (const pending of byRound.values()) await this.writeRound(pending);
      }
    } finally {
      this.flushing = false;
    }
  }

  private async writeRound(pending: Pending[]): Promise<void> {
    const { round } = pending[0]!.update;
    let outcomes: Outcome[];
    try {
      outcomes = await this.rounds.transaction(async (tx) => {
        const status = await this.rounds.lockRoundStatus(round.id, tx);
        const existing = await this.rounds.existingUpdates(
          round.id,
          pending.map((p) => p.update.site.siteId),
          pending.map((p) => p.update.nonce),
          tx,
        );
        const sites = new Set(existing.sites);
        const nonces = new Set(existing.nonces);
        const outcomes = pending.map(({ update }): Outcome => {
          const refusal = admitUpdate(
            { index: round.index, status, selected: round.selectedSiteIds },
            update.site,
            sites.has(update.site.siteId),
          );
          if (refusal) return { refusal: new UpdateRejectedError(refusal.code, refusal.message) };
          if (nonces.has(update.nonce))
            return {
              refusal: new UpdateRejectedError('NONCE_REUSED', 'This update nonce was used before. Refused.'),
            };
          sites.add(update.site.siteId);
          nonces.add(update.nonce);
          return { id: crypto.randomUUID() };
        });
        const accepted = pending.flatMap(({ update }, i) => {
          const outcome = outcomes[i]!;
          return 'id' in outcome ? [{ update, id: outcome.id }] : [];
        });
        await this.rounds.createUpdates(
          accepted.map(({ update, id }) => ({
            id,
            roundId: round.id,
            siteId: update.site.siteId,
            samples: update.samples,
            wireBytes: update.wireBytes,
            bytes: update.bytes,
            sha256: update.sha256,
            storageKey: update.storageKey,
            nonce: update.nonce,
            trainLoss: update.trainLoss,
          })),
          tx,
        );
        await this.audit.recordAll(
          accepted.map(({ update }): AuditInput => ({
            actor: `site:${update.site.name}`,
            action: 'update.received',
            subject: update.studyId,
            details: { round: round.index, samples: update.samples, sha256: update.sha256 },
          })),
          tx,
        );
        return outcomes;
      });
    } catch (err) {
      for (const p of pending) p.reject(err);
      return;
    }
    pending.forEach((p, i) => {
      const outcome = outcomes[i]!;
      if ('id' in outcome) p.resolve(outcome.id);
      else p.reject(outcome.refusal);
    });
  }
}
