import { Inject, Injectable } from '@nestjs/common';
import type { Prisma, PrismaClient, Site } from '@prisma/client';
import type { AgentHello } from '@fedseg/protocol';
import { PRISMA } from '../core/tokens';

@Injectable()
export class SitesRepository {
  constructor(@Inject(PRISMA) private readonly prisma: PrismaClient) {}

  /** Trial mode: a site is admitted by name on first hello (enrollment with keys comes with the trust work). */
  upsertOnHello(hello: AgentHello): Promise<Site> {
    const data = {
      maxConcurrentStudies: hello.maxConcurrentStudies,
      backendInfo: hello.backend as unknown as Prisma.InputJsonValue,
      lastSeenAt: new Date(),
    };
    return this.prisma.site.upsert({
      where: { name: hello.siteName },
      create: { name: hello.siteName, ...data },
      update: data,
    });
  }

  list(): Promise<Site[]> {
    return this.prisma.site.findMany({ orderBy: { name: 'asc' } });
  }

  byIds(ids: readonly string[]): Promise<Site[]> {
    return this.prisma.site.findMany({ where: { id: { in: [...ids] } } });
  }
}
