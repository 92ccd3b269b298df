import { Controller, Get, Inject } from '@nestjs/common';
import { DATABASE } from '../core/tokens';
import type { OpenDatabase } from '../database/database-adapter';

@Controller('health')
export class HealthController {
  constructor(@Inject(DATABASE) private readonly db: OpenDatabase) {}

  @Get()
  async health() {
    await this.db.prisma.$queryRaw`SELECT 1`;
    return { ok: true, database: this.db.target.kind };
  }
}
