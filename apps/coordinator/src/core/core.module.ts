import path from 'node:path';
import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { CoordinatorConfig } from '../config/coordinator-config';
import { openDatabase, resolveDatabaseTarget, type OpenDatabase } from '../database/database-adapter';
import { Transactions } from '../database/transactions';
import { FileBlobStore } from '../storage/blob-store';
import { childLogger } from '../common/logger';
import { BLOB_STORE, COORDINATOR_CONFIG, DATABASE, PRISMA } from './tokens';
import { loadOrCreateCoordinatorIdentity } from '../identity/coordinator-identity';
import { COORDINATOR_IDENTITY } from '../identity/identity.tokens';

/** Config, database (migrated at start) and blob store, shared by every feature module. */
@Global()
@Module({})
export class CoreModule implements OnApplicationShutdown {
  constructor(@Inject(DATABASE) private readonly database: OpenDatabase) {}

  static forRoot(config: CoordinatorConfig) {
    return {
      module: CoreModule,
      providers: [
        { provide: COORDINATOR_CONFIG, useValue: config },
        {
          provide: DATABASE,
          useFactory: async (): Promise<OpenDatabase> => {
            const log = childLogger('database');
            const target = resolveDatabaseTarget(config.databaseUrl, config.homeDir);
            const db = await openDatabase(target);
            log.info({ database: target.kind, migrated: db.migrated }, `using ${target.description}`);
            return db;
          },
        },
        { provide: PRISMA, useFactory: (db: OpenDatabase) => db.prisma, inject: [DATABASE] },
        Transactions,
        { provide: BLOB_STORE, useValue: new FileBlobStore(path.resolve(config.homeDir, 'blobs')) },
        {
          provide: COORDINATOR_IDENTITY,
          useFactory: () =>
            loadOrCreateCoordinatorIdentity(
              config.identityFile ?? path.resolve(config.homeDir, 'coordinator-identity.json'),
            ),
        },
      ],
      exports: [COORDINATOR_CONFIG, DATABASE, PRISMA, BLOB_STORE, COORDINATOR_IDENTITY, Transactions],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.database.close();
  }
}
