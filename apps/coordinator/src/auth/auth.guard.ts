import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ACTION_KEY, PUBLIC_KEY, type AuthedRequest } from './auth.decorators';
import { ForbiddenError } from './auth.errors';
import { CallerAuthorizer } from './caller-authorizer';
import type { Action } from './policy';

/**
 * Every REST route passes here: public routes through, the rest need a valid API token whose role the policy
 * table allows for the route's action. Routes that name no action are refused (fail closed). Failed
 * authentications count against the caller's address; every refusal is audited.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authorizer: CallerAuthorizer,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true; // sockets authenticate in their handshake
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const route = `${req.method} ${req.url.split('?')[0]}`;
    const action = this.reflector.getAllAndOverride<Action | undefined>(ACTION_KEY, targets);
    if (!action) throw new ForbiddenError(`${route} has no access policy; it is closed.`);
    const header = req.headers.authorization;
    const bearer = () =>
      header === undefined
        ? undefined
        : typeof header === 'string' && /^Bearer\s+/i.test(header)
          ? header.replace(/^Bearer\s+/i, '').trim()
          : '';
    req.caller = await this.authorizer.authorize(bearer, action, {
      source: req.ip ?? 'unknown',
      where: route,
      refusedAs: 'auth.refused',
    });
    return true;
  }
}
