import { Inject, Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient } from '@prisma/client';
import { PRISMA } from '../core/tokens';

export type Db = PrismaClient | Prisma.TransactionClient;

/** Every action that changes state leaves an audit row, in the same transaction as the change. */
@Injectable()
export class AuditRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  async record(
    event: { actor: string; action: string; subject?: string; details?: Prisma.InputJsonValue },
    db: Db = this.prisma,
  ): Promise<void> {
    await db.auditEvent.create({ data: event });
  }
}
