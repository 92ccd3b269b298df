import { Module } from '@nestjs/common';
import { SitesController } from './sites.controller';
import { SitesRepository } from './sites.repository';
import { SiteRegistry } from './site-registry.service';
import { SitesService } from './sites.service';

@Module({
  controllers: [SitesController],
  providers: [SitesRepository, SiteRegistry, SitesService],
  exports: [SitesRepository, SiteRegistry],
})
export class SitesModule {}
