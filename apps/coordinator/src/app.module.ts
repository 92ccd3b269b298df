import { Module, type DynamicModule } from '@nestjs/common';
import type { CoordinatorConfig } from './config/coordinator-config';
import { CoreModule } from './core/core.module';
import { AuditModule } from './audit/audit.module';
import { SitesModule } from './sites/sites.module';
import { RoundsModule } from './rounds/rounds.module';
import { StudiesModule } from './studies/studies.module';
import { AgentModule } from './agent/agent.module';
import { HealthController } from './common/health.controller';
import { AuthModule } from './auth/auth.module';
import { EnrollmentModule } from './enrollment/enrollment.module';
import { DashboardModule } from './dashboard/dashboard.module';
import { OpsModule } from './ops/ops.module';

@Module({})
export class AppModule {
  static forRoot(config: CoordinatorConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config),
        AuditModule,
        AuthModule,
        SitesModule,
        EnrollmentModule,
        RoundsModule,
        StudiesModule,
        AgentModule,
        DashboardModule,
        OpsModule,
      ],
      controllers: [HealthController],
    };
  }
}
