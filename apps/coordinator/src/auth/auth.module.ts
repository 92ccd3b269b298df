import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuthGuard } from './auth.guard';
import { CallerAuthorizer } from './caller-authorizer';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';
import { SitesModule } from '../sites/sites.module';

/** Users, API tokens and the guard every REST route passes. */
@Global()
@Module({
  imports: [SitesModule],
  controllers: [UsersController],
  providers: [UsersRepository, UsersService, CallerAuthorizer, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [UsersService, CallerAuthorizer],
})
export class AuthModule {}
