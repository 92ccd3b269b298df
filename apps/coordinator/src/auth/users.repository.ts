import { Inject, Injectable } from '@nestjs/common';
import type { ApiToken, PrismaClient, User, UserRole } from '@prisma/client';
import { dbOf, type Db, type Tx } from '../database/transactions';
import { PRISMA } from '../core/tokens';

export type UserWithToken = ApiToken & { user: User };

/** The only place that queries users and API tokens. */
@Injectable()
export class UsersRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  count(): Promise<number> {
    return this.prisma.user.count();
  }

  byName(name: string): Promise<User | null> {
    return this.prisma.user.findUnique({ where: { name } });
  }

  list(): Promise<(User & { site: { name: string } | null })[]> {
    return this.prisma.user.findMany({
      orderBy: { name: 'asc' },
      include: { site: { select: { name: true } } },
    });
  }

  create(data: { name: string; role: UserRole; siteId: string | null }, db?: Db | Tx): Promise<User> {
    return dbOf(db, this.prisma).user.create({ data });
  }

  createToken(
    data: { userId: string; tokenHash: string; label: string | null },
    db?: Db | Tx,
  ): Promise<ApiToken> {
    return dbOf(db, this.prisma).apiToken.create({ data });
  }

  tokenByHash(tokenHash: string): Promise<UserWithToken | null> {
    return this.prisma.apiToken.findUnique({ where: { tokenHash }, include: { user: true } });
  }

  tokenById(id: string): Promise<UserWithToken | null> {
    return this.prisma.apiToken.findUnique({ where: { id }, include: { user: true } });
  }

  revokeToken(id: string, db?: Db | Tx): Promise<ApiToken> {
    return dbOf(db, this.prisma).apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
  }

  touchToken(id: string): Promise<unknown> {
    return this.prisma.apiToken.update({ where: { id }, data: { lastUsedAt: new Date() } });
  }
}
