import fs from 'node:fs';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';

// Kept free of @prisma/client: prisma.config.ts loads this file before the client is generated.

/** Where the coordinator keeps its state: PostgreSQL when DATABASE_URL is set, embedded PGlite otherwise. */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string; description: string }
  | { kind: 'pglite'; dataDir: string; description: string };

export function resolveDatabaseTarget(
  databaseUrl: string | undefined,
  homeDir = process.env.FEDSEG_HOME ?? '.fedseg',
): DatabaseTarget {
  if (databaseUrl && databaseUrl.trim() !== '') {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
      throw new Error(
        `DATABASE_URL must be a postgresql:// URL (got "${databaseUrl.split(':')[0]}:…"); unset it to use the embedded database.`,
      );
    }
    const safe = databaseUrl.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
    return { kind: 'postgres', url: databaseUrl, description: `PostgreSQL at ${safe}` };
  }
  const dataDir = path.resolve(homeDir, 'db');
  return { kind: 'pglite', dataDir, description: `embedded PGlite in ${dataDir}` };
}

/**
 * pglite-prisma-adapter 0.6 is typed against driver-adapter-utils 6.10 while Prisma 6.19 ships 6.19; the
 * runtime contract is the same (our database tests run every query kind through it), only the .d.ts differ.
 */
export function asFactory(factory: PrismaPGlite): SqlMigrationAwareDriverAdapterFactory {
  return factory as unknown as SqlMigrationAwareDriverAdapterFactory;
}

/** Used by prisma.config.ts so `prisma migrate dev` talks to the same database the coordinator would. */
export async function createMigrationAdapter(
  databaseUrl: string | undefined,
): Promise<SqlMigrationAwareDriverAdapterFactory> {
  const target = resolveDatabaseTarget(databaseUrl);
  if (target.kind === 'postgres') return new PrismaPg({ connectionString: target.url });
  fs.mkdirSync(target.dataDir, { recursive: true });
  return asFactory(new PrismaPGlite(new PGlite(target.dataDir)));
}
