import { Module } from '@nestjs/common';
import { SitesModule } from '../sites/sites.module';
import { StudiesRepository } from '../studies/studies.repository';
import { GlobalModelService } from './global-model.service';
import { RoundEvents } from './round-events';
import { RoundSchedulerService } from './round-scheduler.service';
import { RoundsRepository } from './rounds.repository';
import { UpdatesService } from './updates.service';
import { SecureAggregationService } from './secure-aggregation.service';
import { ApprovalsRepository } from '../consent/approvals.repository';
import { ConsentService } from '../consent/consent.service';
import { FingerprintPhase } from '../fingerprint/fingerprint-phase';
import { FingerprintRepository } from '../fingerprint/fingerprint.repository';
import { FingerprintService } from '../fingerprint/fingerprint.service';
import { FingerprintWaiters } from '../fingerprint/fingerprint-waiters';

@Module({
  imports: [SitesModule],
  providers: [
    RoundsRepository,
    StudiesRepository,
    GlobalModelService,
    RoundEvents,
    RoundSchedulerService,
    UpdatesService,
    SecureAggregationService,
    ApprovalsRepository,
    ConsentService,
    FingerprintRepository,
    FingerprintWaiters,
    FingerprintService,
    FingerprintPhase,
  ],
  exports: [
    ConsentService,
    RoundsRepository,
    StudiesRepository,
    GlobalModelService,
    RoundEvents,
    RoundSchedulerService,
    UpdatesService,
    SecureAggregationService,
    FingerprintService,
  ],
})
export class RoundsModule {}
