import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FedsegError } from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import type { CoordinatorConfig } from '../config/coordinator-config';
import { COORDINATOR_CONFIG } from '../core/tokens';
import { ACTION_KEY, PUBLIC_KEY, type AuthedRequest } from './auth.decorators';
import { ForbiddenError, RateLimitedError } from './auth.errors';
import { allows, type Action } from './policy';
import { RateLimiter } from './rate-limiter';
import { UsersService } from './users.service';

/**
 * Every REST route passes here: public routes through, the rest need a valid API token whose role the policy
 * table allows for the route's action. Routes that name no action are refused (fail closed). Failed
 * authentications count against the caller's address; every refusal is audited.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly failures: RateLimiter;

  constructor(
    private readonly reflector: Reflector,
    private readonly users: UsersService,
    private readonly audit: AuditRepository,
    @Inject(COORDINATOR_CONFIG) config: CoordinatorConfig,
  ) {
    this.failures = new RateLimiter(config.authAttemptsPerMinute, 60_000);
  }

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    if (ctx.getType() !== 'http') return true; // sockets authenticate in their handshake
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const source = req.ip ?? 'unknown';
    const route = `${req.method} ${req.url.split('?')[0]}`;
    const action = this.reflector.getAllAndOverride<Action | undefined>(ACTION_KEY, targets);
    if (!action) throw new ForbiddenError(`${route} has no access policy; it is closed.`);
    const wait = this.failures.retryAfter(source);
    if (wait > 0) throw new RateLimitedError(wait);
    const header = req.headers.authorization;
    const token =
      typeof header === 'string' && /^Bearer\s+/i.test(header)
        ? header.replace(/^Bearer\s+/i, '').trim()
        : undefined;
    try {
      req.caller = await this.users.authenticate(header === undefined ? undefined : (token ?? ''));
    } catch (err) {
      this.failures.hit(source);
      const code = err instanceof FedsegError ? err.code : 'INTERNAL';
      await this.audit.refused({
        actor: 'anonymous',
        action: 'auth.refused',
        details: { route, code },
        source,
      });
      throw err;
    }
    if (!allows(req.caller.role, action)) {
      await this.audit.refused({
        actor: `user:${req.caller.name}`,
        action: 'access.refused',
        details: { route, action, role: req.caller.role },
        source,
      });
      throw new ForbiddenError(
        `The ${req.caller.role} role may not ${action}; see the policy table in the README.`,
        { action, role: req.caller.role },
      );
    }
    return true;
  }
}
