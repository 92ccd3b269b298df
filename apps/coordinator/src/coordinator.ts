import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { CoordinatorConfig } from './config/coordinator-config';
import { AppModule } from './app.module';
import { CoordinatorIoAdapter } from './io-adapter';
import { FedsegErrorFilter } from './common/fedseg-error.filter';
import { rootLogger } from './common/logger';

export interface RunningCoordinator {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/** Boots the coordinator (database migrated, scheduler resumed) and listens; used by main.ts, the demo and tests. */
export async function startCoordinator(config: CoordinatorConfig): Promise<RunningCoordinator> {
  rootLogger(config.logLevel);
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: ['error', 'warn'],
    bodyParser: true,
    abortOnError: false,
  });
  app.useWebSocketAdapter(new CoordinatorIoAdapter(app, config.maxMessageBytes));
  app.useGlobalFilters(new FedsegErrorFilter());
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://${config.host}:${address.port}`;
  rootLogger().info({ url }, 'coordinator listening');
  return { app, url, close: () => app.close() };
}
