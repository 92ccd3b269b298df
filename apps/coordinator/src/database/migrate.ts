import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Runs SQL on the raw driver (multi-statement scripts allowed) before Prisma Client opens. */
export interface SqlExecutor {
  exec(sql: string): Promise<void>;
  query<Row extends Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

/**
 * Applies prisma/migrations in order and records them in Prisma's own `_prisma_migrations` table (same
 * columns and sha256 checksum), so `prisma migrate status` agrees with us. We apply them ourselves
 * because Prisma's wasm schema engine cannot yet run `migrate deploy` through @prisma/adapter-pg, and the
 * coordinator must migrate at start on PostgreSQL and PGlite alike.
 */
export function readMigrations(dir: string): MigrationFile[] {
  if (!fs.existsSync(dir)) throw new Error(`No migrations folder at ${dir}.`);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: crypto.createHash('sha256').update(sql).digest('hex') };
    });
}

export async function applyPendingMigrations(
  db: SqlExecutor,
  migrations: readonly MigrationFile[],
): Promise<string[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
  )`);
  const rows = await db.query<{ migration_name: string; checksum: string; finished_at: unknown }>(
    `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
  );
  const applied = new Map(rows.map((r) => [r.migration_name, r]));
  const done: string[] = [];
  for (const m of migrations) {
    const previous = applied.get(m.name);
    if (previous) {
      if (previous.finished_at === null) {
        throw new Error(
          `Migration ${m.name} started earlier but never finished; inspect the database before retrying.`,
        );
      }
      if (previous.checksum !== m.checksum) {
        throw new Error(
          `Migration ${m.name} was edited after it was applied (checksum differs); migrations are never edited.`,
        );
      }
      continue;
    }
    await db.exec('BEGIN');
    try {
      await db.exec(m.sql);
      await db.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), 1)`,
        [crypto.randomUUID(), m.checksum, m.name],
      );
      await db.exec('COMMIT');
    } catch (err) {
      await db.exec('ROLLBACK');
      throw new Error(`Migration ${m.name} failed and was rolled back: ${(err as Error).message}`);
    }
    done.push(m.name);
  }
  return done;
}
