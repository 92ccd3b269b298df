import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import {
  ApiTokenIssued,
  ApiTokenRevoked,
  UserCreated,
  UserList,
  WhoAmI,
  parseOrThrow,
} from '@fedseg/protocol';
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
  @ApiReply(UserCreated, 'Creates a user and its first API token (shown once)')
  create(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<UserCreated> {
    return this.users.createUser(body, actorOf(caller));
  }

  @Get('users')
  @Permission('user.list')
  @ApiReply(UserList, 'Users with their role and, for site-admins, their site')
  async list(): Promise<UserList> {
    return (await this.users.list()).map((u) => ({ ...u, createdAt: u.createdAt.toISOString() }));
  }

  @Post('users/:name/tokens')
  @Permission('token.issue')
  @ApiReply(ApiTokenIssued, 'Issues another API token for a user (shown once)')
  issue(
    @Param('name') name: string,
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
  ): Promise<ApiTokenIssued> {
    return this.users.issueToken(name, body, actorOf(caller));
  }

  @Post('tokens/:id/revoke')
  @HttpCode(200)
  @Permission('token.revoke')
  @ApiReply(ApiTokenRevoked, 'Revokes an API token at once')
  revoke(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<ApiTokenRevoked> {
    return this.users.revokeToken(parseOrThrow(TokenId, id, 'token id'), actorOf(caller));
  }

  @Get('whoami')
  @Permission('whoami')
  @ApiReply(WhoAmI, 'Who the coordinator takes the caller to be')
  whoami(@CurrentCaller() caller: Caller): WhoAmI {
    return { name: caller.name, role: caller.role, siteId: caller.siteId };
  }
}
