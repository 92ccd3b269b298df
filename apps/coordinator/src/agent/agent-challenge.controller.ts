import { Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ConnectChallenge } from '@fedseg/protocol';
import { ApiReply } from '../common/api-reply.decorator';
import { Public, RemoteAddress } from '../auth/auth.decorators';
import { RateLimiter } from '../auth/rate-limiter';
import type { CoordinatorConfig } from '../config/coordinator-config';
import { COORDINATOR_CONFIG } from '../core/tokens';
import { ConnectChallenges } from './connect-challenges';

/** An agent fetches a fresh nonce before every connect and reconnect (socket.io calls its `auth` each time). */
@Controller('agent')
export class AgentChallengeController {
  private readonly attempts: RateLimiter;

  constructor(
    private readonly challenges: ConnectChallenges,
    @Inject(COORDINATOR_CONFIG) config: CoordinatorConfig,
  ) {
    this.attempts = new RateLimiter(config.connectAttemptsPerMinute, 60_000);
  }

  @Post('challenge')
  @HttpCode(200)
  @Public()
  @ApiReply(ConnectChallenge, 'A single-use nonce an agent signs to open its socket')
  challenge(@RemoteAddress() source: string | undefined): ConnectChallenge {
    this.attempts.check(source ?? 'unknown');
    return this.challenges.issue();
  }
}
