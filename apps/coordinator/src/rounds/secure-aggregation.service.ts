import { Injectable } from '@nestjs/common';
import type { Db } from '../database/transactions';
import {
  FedsegError,
  SignatureDomains,
  SignedSecAggReply,
  assertSigned,
  canonicalJson,
  parseOrThrow,
  type SecAggReply,
} from '@fedseg/protocol';
import { StudiesRepository } from '../studies/studies.repository';
import { RoundSchedulerService } from './round-scheduler.service';
import { DuplicateRowError, RoundsRepository } from './rounds.repository';
import { PHASE_OF_STATUS, participantsOf } from './secure-aggregation-phase';

export interface SecAggSender {
  siteId: string;
  name: string;
  signingPublicKey: string;
}

const STATUS_OF_PHASE = Object.fromEntries(
  Object.entries(PHASE_OF_STATUS).map(([status, phase]) => [phase, status]),
);

/**
 * Takes the sites' signed phase messages. Each is checked against the site's enrolled key, the round's
 * current phase and the round's participant sets, then stored with its signature under a lock on the round
 * row, so that a message racing the phase's close is either stored before the phase moves on or refused.
 * Asked twice, a site's identical message is acknowledged again; a different one is refused.
 */
@Injectable()
export class SecureAggregationService {
  constructor(
    private readonly rounds: RoundsRepository,
    private readonly studies: StudiesRepository,
    private readonly scheduler: RoundSchedulerService,
  ) {}

  async accept(site: SecAggSender, payload: unknown): Promise<void> {
    const { reply, signature } = parseOrThrow(SignedSecAggReply, payload, 'secagg:reply message');
    if (reply.siteId !== site.siteId)
      throw new FedsegError(
        'SITE_MISMATCH',
        `This connection is site ${site.name}; it cannot answer for another site.`,
      );
    assertSigned(
      SignatureDomains.secAggReply,
      reply,
      signature,
      site.signingPublicKey,
      `site ${site.name}'s ${reply.phase} message`,
    );
    const study = await this.studies.get(reply.studyId);
    if (!study.config.secureAggregation)
      throw new FedsegError('SECAGG_OFF', `Study ${study.name} does not use secure aggregation.`);
    const round = await this.rounds.getRound(study.id, reply.round);
    if (!round) throw new FedsegError('ROUND_NOT_FOUND', `Study ${study.name} has no round ${reply.round}.`);
    const existing = await this.rounds.secAggMessage(round.id, site.siteId, reply.phase);
    if (existing) {
      if (canonicalJson(existing.payload) === canonicalJson(reply)) return; // a re-send after a reconnect
      throw new FedsegError(
        'DUPLICATE_SECAGG',
        `Site ${site.name} already sent a different ${reply.phase} message for round ${reply.round}.`,
      );
    }
    try {
      await this.rounds.transaction(async (tx) => {
        const status = await this.rounds.lockRoundStatus(round.id, tx);
        if (status !== STATUS_OF_PHASE[reply.phase])
          throw new FedsegError(
            'PHASE_CLOSED',
            `Round ${reply.round} is ${status}; it does not take ${reply.phase} messages now.`,
          );
        await this.checkMembership(round.id, round.selectedSiteIds, reply, tx);
        await this.rounds.addSecAggMessage(
          { roundId: round.id, siteId: site.siteId, phase: reply.phase, payload: reply, signature },
          tx,
        );
      });
    } catch (err) {
      if (err instanceof DuplicateRowError)
        throw new FedsegError(
          'DUPLICATE_SECAGG',
          `Site ${site.name} already sent its ${reply.phase} message.`,
        );
      throw err;
    }
    this.scheduler.notify(study.id);
  }

  /** The sender belongs to the phase, and its message covers exactly the sites it must. */
  private async checkMembership(
    roundId: string,
    selected: readonly string[],
    reply: SecAggReply,
    tx: Db,
  ): Promise<void> {
    const messages = await this.rounds.secAggMessagesOf(roundId, undefined, tx);
    const updates = await this.rounds.updatesOf(roundId, tx);
    const p = participantsOf({
      selected,
      advertised: messages.filter((m) => m.phase === 'advertise').map((m) => m.siteId),
      maskers: messages.filter((m) => m.phase === 'share').map((m) => m.siteId),
      masked: updates.filter((u) => u.status !== 'rejected').map((u) => u.siteId),
      unmasked: [],
    });
    const same = (a: readonly string[], b: readonly string[]) =>
      [...a].sort().join() === [...b].sort().join();
    const refuse = (why: string) => {
      throw new FedsegError('SECAGG_NOT_PARTICIPANT', why);
    };
    switch (reply.phase) {
      case 'advertise':
        if (!p.selected.includes(reply.siteId)) refuse('This site was not selected for the round.');
        return;
      case 'share':
        if (!p.advertised.includes(reply.siteId)) refuse('This site advertised no keys this round.');
        if (
          reply.shares.some((s) => s.from !== reply.siteId) ||
          !same(
            reply.shares.map((s) => s.to),
            p.advertised,
          )
        )
          throw new FedsegError(
            'SECAGG_BAD_SHARES',
            'The shares must go from this site to each site of the roster, once.',
          );
        return;
      case 'unmask': {
        if (!p.masked.includes(reply.siteId)) refuse('This site sent no masked update this round.');
        const dropped = p.maskers.filter((id) => !p.masked.includes(id));
        if (
          !same(
            reply.selfMaskShares.map((s) => s.of),
            p.masked,
          ) ||
          !same(
            reply.maskKeyShares.map((s) => s.of),
            dropped,
          )
        )
          throw new FedsegError(
            'SECAGG_BAD_SHARES',
            'The unmask shares must cover each survivor (self-mask) and each dropped masker (mask key), once.',
          );
        return;
      }
    }
  }
}
