import { Global, Module } from '@nestjs/common';
import { RoundsModule } from '../rounds/rounds.module';
import { SitesModule } from '../sites/sites.module';
import { CoordinatorMetrics } from './coordinator-metrics.service';
import { OpsController } from './ops.controller';

/** /ready and /metrics. Global, so the gateway and services can count into CoordinatorMetrics. */
@Global()
@Module({
  imports: [RoundsModule, SitesModule],
  providers: [CoordinatorMetrics],
  controllers: [OpsController],
  exports: [CoordinatorMetrics],
})
export class OpsModule {}
