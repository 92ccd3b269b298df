import { Inject, Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient, Study, StudyStatus } from '@prisma/client';
import { StudyConfig, type StudyConfig as StudyConfigType } from '@fedseg/protocol';
import { PRISMA } from '../core/tokens';
import type { Db } from '../audit/audit.repository';
import { StudyNotFoundError } from '../common/errors';

export interface StudyRecord extends Omit<Study, 'config'> {
  config: StudyConfigType;
}

/** A study row as the rest of the coordinator sees it: its config re-validated (the schema is the contract). */
export function studyRecordOf(row: Study): StudyRecord {
  return { ...row, config: StudyConfig.parse(row.config) };
}

/** The only place that queries studies. Configs are re-validated on the way out: the schema is the contract. */
@Injectable()
export class StudiesRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  private toRecord(row: Study): StudyRecord {
    return studyRecordOf(row);
  }

  async create(config: StudyConfigType, db: Db = this.prisma): Promise<StudyRecord> {
    const row = await db.study.create({
      data: { name: config.name, config: config as unknown as Prisma.InputJsonValue, status: 'draft' },
    });
    return this.toRecord(row);
  }

  async get(id: string, db: Db = this.prisma): Promise<StudyRecord> {
    const row = await db.study.findUnique({ where: { id } });
    if (!row) throw new StudyNotFoundError(id);
    return this.toRecord(row);
  }

  async list(): Promise<StudyRecord[]> {
    const rows = await this.prisma.study.findMany({ orderBy: { createdAt: 'desc' } });
    return rows.map((r) => this.toRecord(r));
  }

  async listByStatus(status: StudyStatus): Promise<StudyRecord[]> {
    const rows = await this.prisma.study.findMany({ where: { status }, orderBy: { createdAt: 'asc' } });
    return rows.map((r) => this.toRecord(r));
  }

  async setStatus(
    id: string,
    status: StudyStatus,
    statusReason: string | null,
    db: Db = this.prisma,
  ): Promise<void> {
    await db.study.update({ where: { id }, data: { status, statusReason } });
  }

  async setConfig(id: string, config: StudyConfigType, db: Db = this.prisma): Promise<StudyRecord> {
    const row = await db.study.update({
      where: { id },
      data: { name: config.name, config: config as unknown as Prisma.InputJsonValue },
    });
    return this.toRecord(row);
  }

  async setRoundsDone(id: string, roundsDone: number, epsilonSpent: number | null, db: Db): Promise<void> {
    await db.study.update({ where: { id }, data: { roundsDone, epsilonSpent } });
  }

  /** A study's committed global models, oldest first (round 0 is the initial model). */
  checkpoints(studyId: string) {
    return this.prisma.checkpoint.findMany({
      where: { studyId },
      orderBy: { roundIndex: 'asc' },
      select: { roundIndex: true, sha256: true, bytes: true, createdAt: true },
    });
  }

  /** Bytes of the updates each round received, as they arrived (wire bytes), by round id. */
  async uplinkBytesByRound(studyId: string): Promise<Map<string, number>> {
    const rows = await this.prisma.siteUpdate.groupBy({
      by: ['roundId'],
      where: { round: { studyId } },
      _sum: { wireBytes: true },
    });
    return new Map(rows.map((r) => [r.roundId, r._sum.wireBytes ?? 0]));
  }
}
