import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import { WhoAmI, parseOrThrow } from '@fedseg/protocol';
import { ApiReply } from '../common/api-reply.decorator';
import { CurrentCaller, Permission } from './auth.decorators';
import { actorOf, type Caller } from './caller';
import { UsersService } from './users.service';

const TokenId = z.uuid();

@Controller()
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post('users')
  @Permission('user.create')
  create(@Body() body: unknown, @CurrentCaller() caller: Caller) {
    return this.users.createUser(body, actorOf(caller));
  }

  @Get('users')
  @Permission('user.list')
  list() {
    return this.users.list();
  }

  @Post('users/:name/tokens')
  @Permission('token.issue')
  issue(@Param('name') name: string, @Body() body: unknown, @CurrentCaller() caller: Caller) {
    return this.users.issueToken(name, body, actorOf(caller));
  }

  @Post('tokens/:id/revoke')
  @HttpCode(200)
  @Permission('token.revoke')
  revoke(@Param('id') id: string, @CurrentCaller() caller: Caller) {
    return this.users.revokeToken(parseOrThrow(TokenId, id, 'token id'), actorOf(caller));
  }

  @Get('whoami')
  @Permission('whoami')
  @ApiReply(WhoAmI, 'Who the coordinator takes the caller to be')
  whoami(@CurrentCaller() caller: Caller): WhoAmI {
    return { name: caller.name, role: caller.role, siteId: caller.siteId };
  }
}
