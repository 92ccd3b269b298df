import { Module } from '@nestjs/common';
import { RoundsModule } from '../rounds/rounds.module';
import { SitesModule } from '../sites/sites.module';
import { AgentGateway } from './agent.gateway';

@Module({ imports: [RoundsModule, SitesModule], providers: [AgentGateway] })
export class AgentModule {}
