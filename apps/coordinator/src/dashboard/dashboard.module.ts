import { Module } from '@nestjs/common';
import { RoundsModule } from '../rounds/rounds.module';
import { ApiDocsController } from './api-docs.controller';
import { DashboardAssetsController } from './dashboard-assets.controller';
import { DashboardGateway } from './dashboard.gateway';
import { DemoCaseController } from './demo-case.controller';
import { DemoCaseService } from './demo-case.service';

/**
 * The browser's side of the coordinator: the built dashboard, the OpenAPI document, the /dashboard socket, and
 * the viewer's synthetic demo case.
 */
@Module({
  imports: [RoundsModule],
  controllers: [ApiDocsController, DashboardAssetsController, DemoCaseController],
  providers: [DashboardGateway, DemoCaseService],
})
export class DashboardModule {}
