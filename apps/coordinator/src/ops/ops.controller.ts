import { Controller, Get, Header, HttpStatus, Inject, Res, type OnApplicationShutdown } from '@nestjs/common';
import { MetricsText, ReadyReply } from '@fedseg/protocol';
import { Permission, Public } from '../auth/auth.decorators';
import { ApiReply } from '../common/api-reply.decorator';
import { DATABASE } from '../core/tokens';
import type { OpenDatabase } from '../database/database-adapter';
import { CoordinatorMetrics } from './coordinator-metrics.service';

/** The one part of the HTTP response /ready sets (no express types in this project). */
interface StatusResponse {
  status(code: number): unknown;
}

/** Readiness for load balancers and orchestrators, and Prometheus metrics for operators. */
@Controller()
export class OpsController implements OnApplicationShutdown {
  private accepting = true;

  constructor(
    @Inject(DATABASE) private readonly db: OpenDatabase,
    private readonly metrics: CoordinatorMetrics,
  ) {}

  /** Called first on SIGTERM (Nest's shutdown hooks): from then on /ready says 503 while work drains. */
  onApplicationShutdown(): void {
    this.accepting = false;
  }

  @Get('ready')
  @Public()
  @ApiReply(ReadyReply, 'Whether this coordinator takes work now: 200, or 503 naming the failed check')
  async ready(@Res({ passthrough: true }) res: StatusResponse): Promise<ReadyReply> {
    const database = await this.db.prisma.$queryRaw`SELECT 1`.then(
      () => true,
      () => false,
    );
    const reply = { ready: database && this.accepting, checks: { database, accepting: this.accepting } };
    if (!reply.ready) res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return reply;
  }

  @Get('metrics')
  @Permission('metrics.read')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiReply(
    MetricsText,
    'Prometheus metrics: rounds, updates, bytes in and out, durations, connected sites, refusals',
  )
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
