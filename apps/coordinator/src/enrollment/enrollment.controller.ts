import { Body, Controller, Get, Inject, Post } from '@nestjs/common';
import { EnrollReply, EnrollmentTokenIssued, EnrollmentTokenList } from '@fedseg/protocol';
import { CurrentCaller, Permission, Public, RemoteAddress } from '../auth/auth.decorators';
import { actorOf, type Caller } from '../auth/caller';
import { RateLimiter } from '../auth/rate-limiter';
import { ApiReply } from '../common/api-reply.decorator';
import type { CoordinatorConfig } from '../config/coordinator-config';
import { COORDINATOR_CONFIG } from '../core/tokens';
import { EnrollmentService } from './enrollment.service';

@Controller()
export class EnrollmentController {
  private readonly attempts: RateLimiter;

  constructor(
    private readonly enrollment: EnrollmentService,
    @Inject(COORDINATOR_CONFIG) config: CoordinatorConfig,
  ) {
    this.attempts = new RateLimiter(config.authAttemptsPerMinute, 60_000);
  }

  @Post('enrollment-tokens')
  @Permission('enrollment.issue')
  @ApiReply(EnrollmentTokenIssued, 'Issues a one-time enrollment token for a site name (shown once)')
  issue(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<EnrollmentTokenIssued> {
    return this.enrollment.issueToken(body, actorOf(caller));
  }

  @Get('enrollment-tokens')
  @Permission('enrollment.list')
  @ApiReply(EnrollmentTokenList, 'Enrollment tokens issued, newest first: state and dates, never the token')
  list(): Promise<EnrollmentTokenList> {
    return this.enrollment.listTokens();
  }

  /** The agent's `enroll` verb calls this with the token in the body (never in the URL). */
  @Post('enroll')
  @Public()
  @ApiReply(EnrollReply, "Registers a site's public keys with a one-time token; answers the coordinator's")
  enroll(@Body() body: unknown, @RemoteAddress() source: string | undefined): Promise<EnrollReply> {
    this.attempts.check(source ?? 'unknown');
    return this.enrollment.enroll(body, source);
  }
}
