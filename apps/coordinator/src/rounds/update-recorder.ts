import crypto from 'node:crypto';
import type { AuditInput, AuditRepository } from '../audit/audit.repository';
import { UpdateRejectedError } from '../common/errors';
import { admitUpdate } from './round-engine';
import { BurstBatcher, type BatchOutcome } from '../common/burst-batcher';
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

/**
 * Group commit of accepted updates. Every update that arrives while a transaction is writing waits for the
 * next one, which records them all under one row lock on the round, with one insert and one audit append:
 * a burst of N sites costs a handful of transactions, not N. The round's status is checked under that lock
 * (round-engine admitUpdate), so an update racing the round's close is either recorded before the close or
 * refused; duplicates (a site's second update, a reused nonce) are refused, within the batch too.
 */
export class UpdateRecorder {
  private readonly commits = new BurstBatcher<UpdateToRecord, string>(
    (update) => update.round.id,
    (updates) => this.writeRound(updates),
  );

  constructor(
    private readonly rounds: RoundsRepository,
    private readonly audit: AuditRepository,
  ) {}

  /** Resolves with the update's id once it is committed; rejects with UpdateRejectedError when refused. */
  record(update: UpdateToRecord): Promise<string> {
    return this.commits.submit(update);
  }

  private writeRound(pending: readonly UpdateToRecord[]): Promise<Array<BatchOutcome<string>>> {
    const { round } = pending[0]!;
    return this.rounds.transaction(async (tx) => {
      const status = await this.rounds.lockRoundStatus(round.id, tx);
      const existing = await this.rounds.existingUpdates(
        round.id,
        pending.map((update) => update.site.siteId),
        pending.map((update) => update.nonce),
        tx,
      );
      const sites = new Set(existing.sites);
      const nonces = new Set(existing.nonces);
      const outcomes = pending.map((update): BatchOutcome<string> => {
        const refusal = admitUpdate(
          { index: round.index, status, selected: round.selectedSiteIds },
          update.site,
          sites.has(update.site.siteId),
        );
        if (refusal) return { error: new UpdateRejectedError(refusal.code, refusal.message) };
        if (nonces.has(update.nonce))
          return {
            error: new UpdateRejectedError('NONCE_REUSED', 'This update nonce was used before. Refused.'),
          };
        sites.add(update.site.siteId);
        nonces.add(update.nonce);
        return { value: crypto.randomUUID() };
      });
      const accepted = pending.flatMap((update, i) => {
        const outcome = outcomes[i]!;
        return 'value' in outcome ? [{ update, id: outcome.value }] : [];
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
  }
}
