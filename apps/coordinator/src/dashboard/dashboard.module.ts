import { Module } from '@nestjs/common';
import { RoundsModule } from '../rounds/rounds.module';
import { ApiDocsController } from './api-docs.controller';
import { DashboardAssetsController } from './dashboard-assets.controller';
import { DashboardGateway } from './dashboard.gateway';

/** The browser's side of the coordinator: the built dashboard, the OpenAPI document, the /dashboard socket. */
@Module({
  imports: [RoundsModule],
  controllers: [ApiDocsController, DashboardAssetsController],
  providers: [DashboardGateway],
})
export class DashboardModule {}
