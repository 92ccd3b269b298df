import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import { SiteList, SiteRevoked, parseOrThrow } from '@fedseg/protocol';
import { CurrentCaller, Permission, RemoteAddress } from '../auth/auth.decorators';
import { actorOf, type Caller } from '../auth/caller';
import { ApiReply } from '../common/api-reply.decorator';
import { SitesService } from './sites.service';

const SiteId = z.uuid();

@Controller('sites')
export class SitesController {
  constructor(private readonly sites: SitesService) {}

  @Get()
  @Permission('site.list')
  @ApiReply(SiteList, 'Sites with online state, compute backend and last contact')
  list(): Promise<SiteList> {
    return this.sites.list();
  }

  /** Disconnects the site at once and refuses it from then on; other sites are untouched. */
  @Post(':id/revoke')
  @HttpCode(200)
  @Permission('site.revoke')
  @ApiReply(SiteRevoked, 'Revokes a site and disconnects it')
  revoke(
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
    @RemoteAddress() source?: string,
  ): Promise<SiteRevoked> {
    return this.sites.revoke(parseOrThrow(SiteId, id, 'site id'), actorOf(caller), source);
  }
}
