import { Controller, Get, Inject } from '@nestjs/common';
import { HealthReply } from '@fedseg/protocol';
import { Public } from '../auth/auth.decorators';
import type { CoordinatorIdentity } from '../identity/coordinator-identity';
import { COORDINATOR_IDENTITY } from '../identity/identity.tokens';
import { DATABASE } from '../core/tokens';
import type { OpenDatabase } from '../database/database-adapter';
import { ApiReply } from './api-reply.decorator';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(DATABASE) private readonly db: OpenDatabase,
    @Inject(COORDINATOR_IDENTITY) private readonly identity: CoordinatorIdentity,
  ) {}

  /** Public: liveness, and the coordinator's key fingerprint for site admins to compare out of band. */
  @Get()
  @Public()
  @ApiReply(HealthReply, "Liveness, the database kind and the coordinator's key fingerprint")
  async health(): Promise<HealthReply> {
    await this.db.prisma.$queryRaw`SELECT 1`;
    return {
      ok: true as const,
      database: this.db.target.kind,
      coordinatorFingerprint: this.identity.fingerprint,
    };
  }
}
