import { Inject, Injectable } from '@nestjs/common';
import type { PrismaClient, StudyApproval } from '@prisma/client';
import { dbOf, type Db, type Tx } from '../database/transactions';
import { PRISMA } from '../core/tokens';

/** The only place that queries plan approvals. */
@Injectable()
export class ApprovalsRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  ofStudy(studyId: string): Promise<(StudyApproval & { site: { name: string } })[]> {
    return this.prisma.studyApproval.findMany({
      where: { studyId },
      include: { site: { select: { name: true } } },
      orderBy: { approvedAt: 'asc' },
    });
  }

  async approvedSiteIds(studyId: string, planHash: string): Promise<Set<string>> {
    const rows = await this.prisma.studyApproval.findMany({
      where: { studyId, planHash },
      select: { siteId: true },
    });
    return new Set(rows.map((r) => r.siteId));
  }

  find(studyId: string, siteId: string, planHash: string): Promise<StudyApproval | null> {
    return this.prisma.studyApproval.findUnique({
      where: { studyId_siteId_planHash: { studyId, siteId, planHash } },
    });
  }

  create(
    data: { studyId: string; siteId: string; planHash: string; signature: string; approvedAt: Date },
    db: Db | Tx,
  ): Promise<StudyApproval> {
    return dbOf(db, this.prisma).studyApproval.create({ data });
  }
}
