import { Inject, Injectable } from '@nestjs/common';
import type { EnrollmentToken, PrismaClient } from '@prisma/client';
import { PRISMA } from '../core/tokens';
import { dbOf, type Db, type Tx } from '../database/transactions';

/** The only place that queries enrollment tokens (stored by hash: a token is shown once, when issued). */
@Injectable()
export class EnrollmentRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  create(
    data: { tokenHash: string; siteName: string; expiresAt: Date },
    db?: Db | Tx,
  ): Promise<EnrollmentToken> {
    return dbOf(db, this.prisma).enrollmentToken.create({ data });
  }

  /** Newest first. */
  list(): Promise<EnrollmentToken[]> {
    return this.prisma.enrollmentToken.findMany({ orderBy: { createdAt: 'desc' } });
  }

  byHash(tokenHash: string): Promise<EnrollmentToken | null> {
    return this.prisma.enrollmentToken.findUnique({ where: { tokenHash } });
  }

  /** Marks an unused token used; false when it was used already (of two concurrent claims, exactly one wins). */
  async claim(id: string, db: Db | Tx): Promise<boolean> {
    const claimed = await dbOf(db, this.prisma).enrollmentToken.updateMany({
      where: { id, usedAt: null },
      data: { usedAt: new Date() },
    });
    return claimed.count === 1;
  }

  attachSite(id: string, siteId: string, db: Db | Tx): Promise<EnrollmentToken> {
    return dbOf(db, this.prisma).enrollmentToken.update({ where: { id }, data: { siteId } });
  }
}
