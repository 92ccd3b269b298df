import fs from 'node:fs';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '@prisma/client';
import pg from 'pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { applyPendingMigrations, readMigrations, type SqlExecutor } from './migrate';

/** Where the coordinator keeps its state: PostgreSQL when DATABASE_URL is set, embedded PGlite otherwise. */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string; description: string }
  | { kind: 'pglite'; dataDir: string; description: string };

export const MIGRATIONS_DIR = path.resolve(__dirname, '../../../../prisma/migrations');

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

export interface OpenDatabase {
  target: DatabaseTarget;
  prisma: PrismaClient;
  /** Migrations applied by this open (empty when the schema was current). */
  migrated: string[];
  close(): Promise<void>;
}

/** Opens the database, applies pending migrations on the raw driver, then hands Prisma the adapter. */
export async function openDatabase(target: DatabaseTarget, migrationsDir = MIGRATIONS_DIR): Promise<OpenDatabase> {
  const migrations = readMigrations(migrationsDir);
  const driver = await openDriver(target);
  let migrated: string[];
  try {
    migrated = await driver.withExecutor((executor) => applyPendingMigrations(executor, migrations));
  } catch (err) {
    await driver.close();
    throw err;
  }
  const prisma = new PrismaClient({ adapter: driver.adapter });
  return {
    target,
    prisma,
    migrated,
    close: async () => {
      await prisma.$disconnect();
      await driver.close();
    },
  };
}

interface Driver {
  /** Runs work on one connection (BEGIN and COMMIT must land on the same one). */
  withExecutor<T>(work: (executor: SqlExecutor) => Promise<T>): Promise<T>;
  adapter: SqlMigrationAwareDriverAdapterFactory;
  close(): Promise<void>;
}

async function openDriver(target: DatabaseTarget): Promise<Driver> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({ connectionString: target.url, max: 10 });
    return {
      withExecutor: async (work) => {
        const client = await pool.connect();
        try {
          return await work(pgClientExecutor(client));
        } finally {
          client.release();
        }
      },
      adapter: new PrismaPg(pool),
      close: async () => {
        await pool.end().catch(() => undefined);
      },
    };
  }
  fs.mkdirSync(target.dataDir, { recursive: true });
  const lite = new PGlite(target.dataDir);
  return {
    withExecutor: (work) => work(pgliteExecutor(lite)),
    adapter: asFactory(new PrismaPGlite(lite)),
    close: () => lite.close(),
  };
}

function pgClientExecutor(client: pg.PoolClient): SqlExecutor {
  return {
    exec: async (sql) => {
      await client.query(sql);
    },
    query: async <Row extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
      (await client.query(sql, params)).rows as Row[],
  };
}

function pgliteExecutor(lite: PGlite): SqlExecutor {
  return {
    exec: async (sql) => {
      await lite.exec(sql);
    },
    query: async <Row extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
      (await lite.query<Row>(sql, params)).rows,
  };
}

/**
 * pglite-prisma-adapter 0.6 is typed against driver-adapter-utils 6.10 while Prisma 6.19 ships 6.19; the
 * runtime contract is the same (our database tests run every query kind through it), only the .d.ts differ.
 */
function asFactory(factory: PrismaPGlite): SqlMigrationAwareDriverAdapterFactory {
  return factory as unknown as SqlMigrationAwareDriverAdapterFactory;
}

/** Used by prisma.config.ts so `prisma migrate dev` talks to the same database the coordinator would. */
export async function createMigrationAdapter(databaseUrl: string | undefined): Promise<SqlMigrationAwareDriverAdapterFactory> {
  const target = resolveDatabaseTarget(databaseUrl);
  if (target.kind === 'postgres') return new PrismaPg({ connectionString: target.url });
  fs.mkdirSync(target.dataDir, { recursive: true });
  return asFactory(new PrismaPGlite(new PGlite(target.dataDir)));
}
