import { Injectable } from '@nestjs/common';
import {
  FedsegError,
  SiteBackend,
  type SiteDataset,
  type SiteList,
  type SiteRevoked,
} from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import { Transactions } from '../database/transactions';
import { SiteRegistry } from './site-registry.service';
import { SitesRepository } from './sites.repository';

@Injectable()
export class SitesService {
  constructor(
    private readonly sites: SitesRepository,
    private readonly registry: SiteRegistry,
    private readonly audit: AuditRepository,
    private readonly transactions: Transactions,
  ) {}

  async list(): Promise<SiteList> {
    const [rows, counts] = await Promise.all([this.sites.list(), this.sites.latestCaseCounts()]);
    return rows.map((s) => {
      const hello = this.registry.get(s.id)?.hello;
      return {
        id: s.id,
        name: s.name,
        enrolled: s.publicKey !== null,
        revokedAt: s.revokedAt?.toISOString() ?? null,
        online: this.registry.isOnline(s.id),
        busyStudies: [...(this.registry.get(s.id)?.busyStudies ?? [])],
        maxConcurrentStudies: s.maxConcurrentStudies,
        backend: SiteBackend.nullable().catch(null).parse(s.backendInfo),
        lastSeenAt: s.lastSeenAt?.toISOString() ?? null,
        agentVersion: hello?.agentVersion ?? null,
        dataset: hello
          ? {
              ...hello.dataSummary,
              source: 'hello' as const,
              reportedAt: (s.lastSeenAt ?? new Date()).toISOString(),
            }
          : datasetOf(counts.get(s.id)),
      };
    });
  }

  async revoke(id: string, actor: string, source?: string): Promise<SiteRevoked> {
    const site = await this.sites.byId(id);
    if (!site) throw new FedsegError('SITE_NOT_FOUND', `No site ${id}; GET /sites lists them.`);
    if (site.revokedAt)
      return { id, name: site.name, revokedAt: site.revokedAt.toISOString(), disconnected: false };
    const revoked = await this.transactions.run(async (tx) => {
      const row = await this.sites.revoke(id, tx);
      await this.audit.record(
        { actor, action: 'site.revoked', subject: id, details: { name: site.name }, source },
        tx,
      );
      return row;
    });
    const disconnected = this.registry.kick(id, `Site ${site.name} was revoked by the coordinator's admin.`);
    return { id, name: site.name, revokedAt: revoked.revokedAt!.toISOString(), disconnected };
  }
}

function datasetOf(
  c: { trainCases: number | null; valCases: number | null; at: Date } | undefined,
): SiteDataset | null {
  return c
    ? { trainCases: c.trainCases, valCases: c.valCases, source: 'round', reportedAt: c.at.toISOString() }
    : null;
}
