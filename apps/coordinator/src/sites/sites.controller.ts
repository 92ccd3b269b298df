import { Controller, Get } from '@nestjs/common';
import { SitesRepository } from './sites.repository';
import { SiteRegistry } from './site-registry.service';

@Controller('sites')
export class SitesController {
  constructor(
    private readonly sites: SitesRepository,
    private readonly registry: SiteRegistry,
  ) {}

  @Get()
  async list() {
    const rows = await this.sites.list();
    return rows.map((s) => ({
      id: s.id,
      name: s.name,
      online: this.registry.isOnline(s.id),
      busyStudies: [...(this.registry.get(s.id)?.busyStudies ?? [])],
      maxConcurrentStudies: s.maxConcurrentStudies,
      backend: s.backendInfo,
      lastSeenAt: s.lastSeenAt,
    }));
  }
}
