import { Inject, Injectable } from '@nestjs/common';
import { Prisma as PrismaRuntime } from '@prisma/client';
import type {
  Checkpoint,
  Metric,
  Prisma,
  PrismaClient,
  Round,
  RoundStatus,
  SecAggMessage,
  SiteUpdate,
  Study,
} from '@prisma/client';
import { PRISMA } from '../core/tokens';
import type { Db } from '../audit/audit.repository';

export interface MetricInput {
  studyId: string;
  roundIndex: number;
  siteId: string | null;
  split: string;
  name: string;
  value: number;
  samples?: number | null;
}

/** The repository's row types, so that callers need not know Prisma. */
export type RoundRecord = Round;
export type UpdateRecord = SiteUpdate;

/** A row with this unique key exists already; `fields` names the key's columns (Prisma stays in here). */
export class DuplicateRowError extends Error {
  constructor(readonly fields: string) {
    super(`duplicate row (${fields})`);
  }
}

/** Runs a write, turning a unique-key violation into DuplicateRowError. */
async function uniquely<T>(write: Promise<T>): Promise<T> {
  try {
    return await write;
  } catch (err) {
    if (err instanceof PrismaRuntime.PrismaClientKnownRequestError && err.code === 'P2002')
      throw new DuplicateRowError(JSON.stringify(err.meta ?? {}));
    throw err;
  }
}

/** Rounds, updates, checkpoints and metrics: the only place that queries them. */
@Injectable()
export class RoundsRepository {
  constructor(@Inject(PRISMA) readonly prisma: PrismaClient) {}

  transaction<T>(work: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(work, { timeout: 60_000, maxWait: 30_000 });
  }

  latestRound(studyId: string, db: Db = this.prisma): Promise<Round | null> {
    return db.round.findFirst({ where: { studyId }, orderBy: { index: 'desc' } });
  }

  getRound(studyId: string, index: number, db: Db = this.prisma): Promise<Round | null> {
    return db.round.findUnique({ where: { studyId_index: { studyId, index } } });
  }

  createRound(
    data: {
      studyId: string;
      index: number;
      selectedSiteIds: string[];
      deadlineAt: Date;
      status?: 'training' | 'advertising';
      phaseDeadlineAt?: Date;
    },
    db: Db = this.prisma,
  ): Promise<Round> {
    return db.round.create({ data: { status: 'training', ...data } });
  }

  async setRoundStatus(
    roundId: string,
    status: RoundStatus,
    extra: {
      failureReason?: string;
      aggregatedAt?: Date;
      completedAt?: Date;
      deadlineAt?: Date;
      phaseDeadlineAt?: Date | null;
    } = {},
    db: Db = this.prisma,
  ): Promise<void> {
    await db.round.update({ where: { id: roundId }, data: { status, ...extra } });
  }

  /**
   * The round's status, read with a row lock held until the transaction ends: a status change (an UPDATE of
   * the row) waits for it, so what the caller checks stays true until it commits.
   */
  async lockRoundStatus(roundId: string, tx: Prisma.TransactionClient): Promise<RoundStatus> {
    const rows = await tx.$queryRaw<Array<{ status: RoundStatus }>>`
      SELECT status::text AS status FROM "round" WHERE id = ${roundId}::uuid FOR UPDATE`;
    if (rows.length === 0) throw new Error(`round ${roundId} vanished`);
    return rows[0]!.status;
  }

  /** Like lockRoundStatus, by the round's study and index; null when there is no such round. */
  async lockRoundByIndex(
    studyId: string,
    index: number,
    tx: Prisma.TransactionClient,
  ): Promise<{ id: string; status: RoundStatus } | null> {
    const rows = await tx.$queryRaw<Array<{ id: string; status: RoundStatus }>>`
      SELECT id::text AS id, status::text AS status FROM "round"
      WHERE study_id = ${studyId}::uuid AND "index" = ${index} FOR UPDATE`;
    return rows[0] ?? null;
  }

  /**
   * Everything the first messages of a burst of updates of one round are checked against, in one query: the
   * study, its round of this index (null if none) and which of the nonces were ever used. Null when there is
   * no such study.
   */
  async updateAdmission(
    studyId: string,
    index: number,
    nonces: readonly string[],
  ): Promise<{
    study: Study;
    round: Pick<Round, 'id' | 'index' | 'status' | 'selectedSiteIds'> | null;
    usedNonces: Set<string>;
  } | null> {
    const rows = await this.prisma.$queryRaw<
      Array<
        Study & {
          roundId: string | null;
          roundStatus: RoundStatus | null;
          selectedSiteIds: string[] | null;
          usedNonces: string[];
        }
      >
    >`
      SELECT s.id::text AS id, s.name, s.status::text AS status, s.config, s.status_reason AS "statusReason",
        s.rounds_done AS "roundsDone", s.epsilon_spent AS "epsilonSpent", s.created_at AS "createdAt",
        s.updated_at AS "updatedAt", r.id::text AS "roundId", r.status::text AS "roundStatus",
        r.selected_site_ids AS "selectedSiteIds",
        ARRAY(SELECT u.nonce FROM "site_update" u WHERE u.nonce = ANY(${[...nonces]}::text[])) AS "usedNonces"
      FROM "study" s LEFT JOIN "round" r ON r.study_id = s.id AND r."index" = ${index}
      WHERE s.id = ${studyId}::uuid`;
    const row = rows[0];
    if (!row) return null;
    const { roundId, roundStatus, selectedSiteIds, usedNonces, ...study } = row;
    return {
      study,
      round:
        roundId && roundStatus
          ? { id: roundId, index, status: roundStatus, selectedSiteIds: selectedSiteIds ?? [] }
          : null,
      usedNonces: new Set(usedNonces),
    };
  }

  listRounds(studyId: string): Promise<Array<Round & { _count: { updates: number } }>> {
    return this.prisma.round.findMany({
      where: { studyId },
      orderBy: { index: 'asc' },
      include: { _count: { select: { updates: true } } },
    });
  }

  updatesOf(roundId: string, db: Db = this.prisma): Promise<SiteUpdate[]> {
    return db.siteUpdate.findMany({ where: { roundId }, orderBy: { receivedAt: 'asc' } });
  }

  /** Sites with an accepted (not rejected) update in the round: a small query, for every wakeup of a round. */
  async answeredSites(roundId: string): Promise<Set<string>> {
    const rows = await this.prisma.siteUpdate.findMany({
      where: { roundId, status: { not: 'rejected' } },
      select: { siteId: true },
    });
    return new Set(rows.map((r) => r.siteId));
  }

  /** How many of the study's latest rounds failed in a row (0 when the latest did not fail). */
  async trailingFailures(studyId: string, db: Db = this.prisma): Promise<number> {
    const latest = await db.round.findFirst({
      where: { studyId, status: { not: 'failed' } },
      orderBy: { index: 'desc' },
      select: { index: true },
    });
    return db.round.count({ where: { studyId, status: 'failed', index: { gt: latest?.index ?? 0 } } });
  }

  /** Of these sites and nonces, those that already have an update in the round / anywhere. */
  async existingUpdates(
    roundId: string,
    siteIds: readonly string[],
    nonces: readonly string[],
    db: Db,
  ): Promise<{ sites: Set<string>; nonces: Set<string> }> {
    const rows = await db.siteUpdate.findMany({
      where: {
        OR: [{ roundId, siteId: { in: [...siteIds] } }, { nonce: { in: [...nonces] } }],
      },
      select: { roundId: true, siteId: true, nonce: true },
    });
    return {
      sites: new Set(rows.filter((r) => r.roundId === roundId).map((r) => r.siteId)),
      nonces: new Set(rows.flatMap((r) => (r.nonce ? [r.nonce] : []))),
    };
  }

  /** Inserts several updates of one round in one statement; ids are chosen here so callers learn them. */
  async createUpdates(
    rows: ReadonlyArray<
      Omit<Prisma.SiteUpdateUncheckedCreateInput, 'status' | 'receivedAt'> & { id: string }
    >,
    db: Db,
  ): Promise<void> {
    await uniquely(
      db.siteUpdate.createMany({ data: rows.map((r) => ({ ...r, status: 'received' as const })) }),
    );
  }

  /** Exactly the updates that went into the checkpoint. */
  async markUpdatesAggregated(roundId: string, updateIds: readonly string[], db: Db): Promise<void> {
    await db.siteUpdate.updateMany({
      where: { roundId, id: { in: [...updateIds] }, status: 'received' },
      data: { status: 'aggregated' },
    });
  }

  /** Stores a site's signed phase message; a second one for the same (round, site, phase) violates the unique key. */
  async addSecAggMessage(
    data: {
      roundId: string;
      siteId: string;
      phase: string;
      payload: Prisma.InputJsonValue;
      signature: string;
    },
    db: Db = this.prisma,
  ): Promise<void> {
    await uniquely(db.secAggMessage.create({ data }));
  }

  secAggMessage(roundId: string, siteId: string, phase: string): Promise<SecAggMessage | null> {
    return this.prisma.secAggMessage.findUnique({
      where: { roundId_siteId_phase: { roundId, siteId, phase } },
    });
  }

  secAggMessagesOf(roundId: string, phase?: string, db: Db = this.prisma): Promise<SecAggMessage[]> {
    return db.secAggMessage.findMany({
      where: { roundId, ...(phase ? { phase } : {}) },
      orderBy: { receivedAt: 'asc' },
    });
  }

  createCheckpoint(
    data: {
      studyId: string;
      roundIndex: number;
      roundId: string | null;
      storageKey: string;
      sha256: string;
      bytes: number;
      strategyState?: Prisma.InputJsonValue;
    },
    db: Db = this.prisma,
  ): Promise<Checkpoint> {
    return db.checkpoint.create({ data });
  }

  latestCheckpoint(studyId: string, db: Db = this.prisma): Promise<Checkpoint | null> {
    return db.checkpoint.findFirst({ where: { studyId }, orderBy: { roundIndex: 'desc' } });
  }

  checkpointOf(studyId: string, roundIndex: number): Promise<Checkpoint | null> {
    return this.prisma.checkpoint.findUnique({ where: { studyId_roundIndex: { studyId, roundIndex } } });
  }

  async addMetrics(metrics: readonly MetricInput[], db: Db = this.prisma): Promise<void> {
    if (metrics.length > 0) await db.metric.createMany({ data: [...metrics] });
  }

  metricsOf(
    studyId: string,
    filter: { roundIndex?: number; split?: string; siteId?: string | null } = {},
  ): Promise<Metric[]> {
    return this.prisma.metric.findMany({
      where: { studyId, ...filter },
      orderBy: [{ roundIndex: 'asc' }, { createdAt: 'asc' }],
    });
  }

  /** Of these sites, those that reported metrics of this round and split already. */
  async reportedSites(
    studyId: string,
    roundIndex: number,
    split: string,
    siteIds: readonly string[],
    db: Db,
  ): Promise<Set<string>> {
    const rows = await db.metric.findMany({
      where: { studyId, roundIndex, split, siteId: { in: [...siteIds] } },
      select: { siteId: true },
      distinct: ['siteId'],
    });
    return new Set(rows.map((r) => r.siteId!));
  }

  async siteMetricKeys(studyId: string, roundIndex: number, split: string): Promise<Set<string>> {
    const rows = await this.prisma.metric.findMany({
      where: { studyId, roundIndex, split, siteId: { not: null } },
      select: { siteId: true },
      distinct: ['siteId'],
    });
    return new Set(rows.map((r) => r.siteId!));
  }
}
