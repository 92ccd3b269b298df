import fs from 'node:fs';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '@prisma/client';
import pg from 'pg';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { applyPendingMigrations, readMigrations, type SqlExecutor } from './migrate';
import { asFactory, type DatabaseTarget } from './database-target';
import { childLogger } from '../common/logger';

const log = childLogger('database');

export { resolveDatabaseTarget, type DatabaseTarget } from './database-target';

export const MIGRATIONS_DIR = path.resolve(__dirname, '../../../../prisma/migrations');

export interface OpenDatabase {
  target: DatabaseTarget;
  prisma: PrismaClient;
  /** Migrations applied by this open (empty when the schema was current). */
  migrated: string[];
  close(): Promise<void>;
}

/** Opens the database, applies pending migrations on the raw driver, then hands Prisma the adapter. */
export async function openDatabase(
  target: DatabaseTarget,
  migrationsDir = MIGRATIONS_DIR,
): Promise<OpenDatabase> {
  const migrations = readMigrations(migrationsDir);
  const driver = await openDriver(target);
  let migrated: string[];
  try {
    migrated = await driver.withExecutor((executor) => applyPendingMigrations(executor, migrations));
  } catch (err) {
    await driver.close();
    throw err;
  }
  // Prisma's defaults (2 s to get a connection, 5 s per transaction) fail requests under a burst of audited
  // writes, which queue for the audit chain's lock: wait longer rather than refuse (P2028, HTTP 500).
  const prisma = new PrismaClient({
    adapter: driver.adapter,
    transactionOptions: { maxWait: 30_000, timeout: 60_000 },
  });
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
    // An idle connection the server dropped (restart, failover) emits 'error' on the pool; unhandled, it would
    // end the process. The pool discards that connection and the next query opens a new one.
    pool.on('error', (err) =>
      log.warn({ err: err.message }, 'database connection lost; the next query reconnects'),
    );
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
