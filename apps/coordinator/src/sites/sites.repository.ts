import { Inject, Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient, Site } from '@prisma/client';
import type { AgentHello } from '@fedseg/protocol';
import { dbOf, type Db, type Tx } from '../database/transactions';
import { PRISMA } from '../core/tokens';

/** The only place that queries sites. Sites exist only through enrollment; a hello never creates one. */
@Injectable()
export class SitesRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  byId(id: string): Promise<Site | null> {
    return this.prisma.site.findUnique({ where: { id } });
  }

  byName(name: string, db?: Db | Tx): Promise<Site | null> {
    return dbOf(db, this.prisma).site.findUnique({ where: { name } });
  }

  /** Registers (or, after a revocation, re-registers) a site's public keys. */
  enroll(
    data: { name: string; signingPublicKey: string; agreementPublicKey: string },
    db: Db | Tx,
  ): Promise<Site> {
    const keys = {
      publicKey: data.signingPublicKey,
      agreementPublicKey: data.agreementPublicKey,
      enrolledAt: new Date(),
      revokedAt: null,
    };
    return dbOf(db, this.prisma).site.upsert({
      where: { name: data.name },
      create: { name: data.name, ...keys },
      update: keys,
    });
  }

  revoke(id: string, db: Db | Tx): Promise<Site> {
    return dbOf(db, this.prisma).site.update({ where: { id }, data: { revokedAt: new Date() } });
  }

  recordHello(siteId: string, hello: AgentHello): Promise<Site> {
    return this.prisma.site.update({
      where: { id: siteId },
      data: {
        maxConcurrentStudies: hello.maxConcurrentStudies,
        backendInfo: hello.backend as unknown as Prisma.InputJsonValue,
        lastSeenAt: new Date(),
      },
    });
  }

  list(): Promise<Site[]> {
    return this.prisma.site.findMany({ orderBy: { name: 'asc' } });
  }

  /** Each site's latest update sample count and latest validation case count (the metric `cases`). */
  async latestCaseCounts(): Promise<
    Map<string, { trainCases: number | null; valCases: number | null; at: Date }>
  > {
    const [updates, evaluations] = await Promise.all([
      this.prisma.siteUpdate.findMany({
        distinct: ['siteId'],
        orderBy: [{ siteId: 'asc' }, { receivedAt: 'desc' }],
        select: { siteId: true, samples: true, receivedAt: true },
      }),
      this.prisma.metric.findMany({
        where: { split: 'val', name: 'cases', siteId: { not: null } },
        distinct: ['siteId'],
        orderBy: [{ siteId: 'asc' }, { createdAt: 'desc' }],
        select: { siteId: true, value: true, createdAt: true },
      }),
    ]);
    const out = new Map<string, { trainCases: number | null; valCases: number | null; at: Date }>();
    for (const u of updates) out.set(u.siteId, { trainCases: u.samples, valCases: null, at: u.receivedAt });
    for (const m of evaluations) {
      const seen = out.get(m.siteId!) ?? { trainCases: null, valCases: null, at: m.createdAt };
      out.set(m.siteId!, {
        ...seen,
        valCases: Math.round(m.value),
        at: seen.at > m.createdAt ? seen.at : m.createdAt,
      });
    }
    return out;
  }

  byIds(ids: readonly string[]): Promise<Site[]> {
    return this.prisma.site.findMany({ where: { id: { in: [...ids] } } });
  }
}
