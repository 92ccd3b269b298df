import { Module } from '@nestjs/common';
import { RoundsModule } from '../rounds/rounds.module';
import { SitesModule } from '../sites/sites.module';
import { AgentAuthenticator } from './agent-authenticator';
import { AgentChallengeController } from './agent-challenge.controller';
import { AgentGateway } from './agent.gateway';
import { ConnectChallenges } from './connect-challenges';

@Module({
  imports: [RoundsModule, SitesModule],
  controllers: [AgentChallengeController],
  providers: [AgentGateway, AgentAuthenticator, ConnectChallenges],
})
export class AgentModule {}
