import { Inject, Injectable } from '@nestjs/common';
import { Prisma, type PrismaClient } from '@prisma/client';
import { PRISMA } from '../core/tokens';
import { dbOf, type Db, type Tx } from '../database/transactions';
import { BurstBatcher } from '../common/burst-batcher';
import { GENESIS_HASH, auditEntryHash, type AuditEntry } from './audit-chain';

export type { Db } from '../database/transactions';

export interface AuditInput {
  actor: string;
  action: string;
  subject?: string;
  details?: Prisma.InputJsonValue;
  /** Remote address of the request, when there was one. */
  source?: string;
}

/** Serializes chain appends across connections and coordinator instances for the length of a transaction. */
const AUDIT_LOCK_KEY = 0x6665_6473; // "feds"

/**
 * Every action that changes state leaves an audit row, in the same transaction as the change; so does every
 * refused attempt (in a transaction of its own). Rows are hash-chained; the database refuses to change them.
 */
@Injectable()
export class AuditRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async record(event: AuditInput, db?: Db | Tx): Promise<void> {
    if (db && db !== this.prisma)
      return this.append(event, dbOf(db, this.prisma) as Prisma.TransactionClient);
    await this.onTheirOwn.submit(event);
  }

  /**
   * Entries in no caller's transaction (a connection, a refusal) come in bursts too (a hundred sites
   * reconnecting): each burst is appended in one transaction, under one take of the chain's lock, instead of
   * a hundred transactions queueing for it.
   */
  private readonly onTheirOwn = new BurstBatcher<AuditInput, void>(
    () => 'audit',
    async (events) => {
      await this.prisma.$transaction((tx) => this.appendAll(events, tx), {
        timeout: 30_000,
        maxWait: 30_000,
      });
      return events.map(() => ({ value: undefined }));
    },
  );

  /** A refusal is recorded even though the request changed nothing else; a failure to record never masks it. */
  async refused(event: AuditInput): Promise<void> {
    await this.record(event).catch(() => undefined);
  }

  private append(event: AuditInput, tx: Prisma.TransactionClient): Promise<void> {
    return this.appendAll([event], tx);
  }

  /**
   * Several entries in one transaction, chained in the given order: one lock and one read of the chain's end
   * for all of them (a round's burst of updates is recorded in one go).
   */
  async recordAll(events: readonly AuditInput[], tx: Db | Tx): Promise<void> {
    if (events.length === 0) return;
    await this.appendAll(events, dbOf(tx, this.prisma) as Prisma.TransactionClient);
  }

  private async appendAll(events: readonly AuditInput[], tx: Prisma.TransactionClient): Promise<void> {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`;
    const last = await tx.auditEvent.findFirst({
      where: { seq: { not: null } },
      orderBy: { seq: 'desc' },
      select: { seq: true, hash: true },
    });
    let seq = Number(last?.seq ?? 0n);
    let prevHash = last?.hash ?? GENESIS_HASH;
    // Millisecond precision, as the column stores it, so the hash can be recomputed from the row.
    const at = new Date().toISOString();
    const rows = events.map((event) => {
      const entry = {
        seq: ++seq,
        at,
        actor: event.actor,
        action: event.action,
        subject: event.subject ?? null,
        details: (event.details ?? null) as unknown,
        source: event.source ?? null,
        prevHash,
      };
      const hash = auditEntryHash(entry);
      prevHash = hash;
      return {
        seq: BigInt(entry.seq),
        at: new Date(entry.at),
        actor: entry.actor,
        action: entry.action,
        subject: entry.subject,
        details: event.details ?? Prisma.DbNull,
        source: entry.source,
        prevHash: entry.prevHash,
        hash,
      };
    });
    if (rows.length === 1) await tx.auditEvent.create({ data: rows[0]! });
    else await tx.auditEvent.createMany({ data: rows });
  }

  /** The hashed part of the log in chain order, as `fedseg audit export` writes it. */
  async exportChain(): Promise<AuditEntry[]> {
    const rows = await this.prisma.auditEvent.findMany({
      where: { seq: { not: null } },
      orderBy: { seq: 'asc' },
    });
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: r.at.toISOString(),
      actor: r.actor,
      action: r.action,
      subject: r.subject,
      details: (r.details ?? null) as unknown,
      source: r.source,
      prevHash: r.prevHash!,
      hash: r.hash!,
    }));
  }

  /** Events of one action about one subject, oldest first (a study's declined tasks, for instance). */
  async eventsAbout(
    action: string,
    subject: string,
  ): Promise<{ at: Date; actor: string; details: unknown }[]> {
    return this.prisma.auditEvent.findMany({
      where: { action, subject },
      orderBy: { seq: 'asc' },
      select: { at: true, actor: true, details: true },
    });
  }
}
