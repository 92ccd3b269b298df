import { Inject, Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient, Site } from '@prisma/client';
import type { AgentHello } from '@fedseg/protocol';
import type { Db } from '../audit/audit.repository';
import { PRISMA } from '../core/tokens';

/** The only place that queries sites. Sites exist only through enrollment; a hello never creates one. */
@Injectable()
export class SitesRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  byId(id: string): Promise<Site | null> {
    return this.prisma.site.findUnique({ where: { id } });
  }

  byName(name: string, db: Db = this.prisma): Promise<Site | null> {
    return db.site.findUnique({ where: { name } });
  }

  /** Registers (or, after a revocation, re-registers) a site's public keys. */
  enroll(
    data: { name: string; signingPublicKey: string; agreementPublicKey: string },
    db: Db,
  ): Promise<Site> {
    const keys = {
      publicKey: data.signingPublicKey,
      agreementPublicKey: data.agreementPublicKey,
      enrolledAt: new Date(),
      revokedAt: null,
    };
    return db.site.upsert({ where: { name: data.name }, create: { name: data.name, ...keys }, update: keys });
  }

  revoke(id: string, db: Db): Promise<Site> {
    return db.site.update({ where: { id }, data: { revokedAt: new Date() } });
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

  byIds(ids: readonly string[]): Promise<Site[]> {
    return this.prisma.site.findMany({ where: { id: { in: [...ids] } } });
  }
}
