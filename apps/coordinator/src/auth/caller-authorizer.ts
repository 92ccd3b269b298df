import { Inject, Injectable } from '@nestjs/common';
import { FedsegError } from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import type { CoordinatorConfig } from '../config/coordinator-config';
import { COORDINATOR_CONFIG } from '../core/tokens';
import { ForbiddenError, RateLimitedError } from './auth.errors';
import type { Caller } from './caller';
import { allows, type Action } from './policy';
import { RateLimiter } from './rate-limiter';
import { UsersService } from './users.service';

/**
 * API-token authentication plus the policy check, for REST (the guard) and the /dashboard socket alike: one
 * counter of failed attempts per address across both, and every refusal audited (who, what, where from).
 */
@Injectable()
export class CallerAuthorizer {
  private readonly failures: RateLimiter;

  constructor(
    private readonly users: UsersService,
    private readonly audit: AuditRepository,
    @Inject(COORDINATOR_CONFIG) config: CoordinatorConfig,
  ) {
    this.failures = new RateLimiter(config.authAttemptsPerMinute, 60_000);
  }

  /**
   * `readToken` extracts the presented token (it may throw, e.g. on a malformed handshake: that counts as a
   * failed attempt); `where` names the route or namespace and `refusedAs` the audit action of a failed token.
   */
  async authorize(
    readToken: () => string | undefined,
    action: Action,
    at: { source: string; where: string; refusedAs: string },
  ): Promise<Caller> {
    const wait = this.failures.retryAfter(at.source);
    if (wait > 0) throw new RateLimitedError(wait);
    let caller: Caller;
    try {
      caller = await this.users.authenticate(readToken());
    } catch (err) {
      this.failures.hit(at.source);
      const code = err instanceof FedsegError ? err.code : 'INTERNAL';
      await this.audit.refused({
        actor: 'anonymous',
        action: at.refusedAs,
        details: { route: at.where, code },
        source: at.source,
      });
      throw err;
    }
    if (!allows(caller.role, action)) {
      await this.audit.refused({
        actor: `user:${caller.name}`,
        action: 'access.refused',
        details: { route: at.where, action, role: caller.role },
        source: at.source,
      });
      throw new ForbiddenError(
        `The ${caller.role} role may not ${action}; see the policy table in the README.`,
        { action, role: caller.role },
      );
    }
    return caller;
  }
}
