import { EnrollmentRepository } from './enrollment.repository';
import { Module } from '@nestjs/common';
import { SitesModule } from '../sites/sites.module';
import { EnrollmentController } from './enrollment.controller';
import { EnrollmentService } from './enrollment.service';

@Module({
  imports: [SitesModule],
  controllers: [EnrollmentController],
  providers: [EnrollmentRepository, EnrollmentService],
})
export class EnrollmentModule {}
