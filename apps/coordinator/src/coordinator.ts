import 'reflect-metadata';
import fs from 'node:fs';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { CoordinatorConfig } from './config/coordinator-config';
import { AppModule } from './app.module';
import { CoordinatorIoAdapter } from './io-adapter';
import { FedsegErrorFilter } from './common/fedseg-error.filter';
import { rootLogger } from './common/logger';
import { UsersService } from './auth/users.service';
import { COORDINATOR_IDENTITY } from './identity/identity.tokens';
import type { CoordinatorIdentity } from './identity/coordinator-identity';

export interface RunningCoordinator {
  app: INestApplication;
  url: string;
  /** The coordinator's key fingerprint, for site admins to compare when they enroll. */
  fingerprint: string;
  /** Set only on the very first start, when the `admin` user was made (also in `<home>/admin.token`). */
  bootstrapAdminToken: string | null;
  close(): Promise<void>;
}

/** Boots the coordinator (database migrated, scheduler resumed) and listens; used by main.ts, the demo and tests. */
export async function startCoordinator(config: CoordinatorConfig): Promise<RunningCoordinator> {
  rootLogger(config.logLevel);
  const tls = config.tlsCertFile && config.tlsKeyFile;
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: ['error', 'warn'],
    bodyParser: true,
    abortOnError: false,
    ...(tls
      ? {
          httpsOptions: {
            cert: fs.readFileSync(config.tlsCertFile!),
            key: fs.readFileSync(config.tlsKeyFile!),
          },
        }
      : {}),
  });
  app.useWebSocketAdapter(new CoordinatorIoAdapter(app, config.maxMessageBytes, config));
  app.useGlobalFilters(new FedsegErrorFilter());
  app.enableShutdownHooks();
  const bootstrapAdminToken = await app.get(UsersService).bootstrapAdmin();
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as { port: number };
  const url = `${tls ? 'https' : 'http'}://${config.host}:${address.port}`;
  const fingerprint = app.get<CoordinatorIdentity>(COORDINATOR_IDENTITY).fingerprint;
  rootLogger().info({ url, fingerprint }, 'coordinator listening');
  return { app, url, fingerprint, bootstrapAdminToken, close: () => app.close() };
}
