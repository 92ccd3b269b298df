import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { applyPendingMigrations, readMigrations, type SqlExecutor } from './migrate';
import { MIGRATIONS_DIR } from './database-adapter';

function executor(lite: PGlite): SqlExecutor {
  return {
    exec: async (sql) => {
      await lite.exec(sql);
    },
    query: async <Row extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
      (await lite.query<Row>(sql, params)).rows,
  };
}

describe('migrations', () => {
  it('applies the committed migrations once, records them like Prisma, and applies nothing the second time', async () => {
    const lite = new PGlite();
    const db = executor(lite);
    const migrations = readMigrations(MIGRATIONS_DIR);
    expect(migrations.length).toBeGreaterThan(0);
    expect(await applyPendingMigrations(db, migrations)).toEqual(migrations.map((m) => m.name));
    expect(await applyPendingMigrations(db, migrations)).toEqual([]);
    const rows = await db.query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM "_prisma_migrations"',
    );
    expect(rows.map((r) => r.checksum)).toEqual(migrations.map((m) => m.checksum));
    const tables = await db.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    );
    expect(tables.map((t) => t.tablename)).toEqual(
      expect.arrayContaining(['study', 'round', 'site_update', 'checkpoint', 'metric', 'audit_event']),
    );
    await lite.close();
  });

  it('refuses a migration edited after it was applied, and rolls back one that fails', async () => {
    const lite = new PGlite();
    const db = executor(lite);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-migrations-'));
    fs.mkdirSync(path.join(dir, '001_a'));
    fs.writeFileSync(path.join(dir, '001_a', 'migration.sql'), 'CREATE TABLE a (id int);');
    await applyPendingMigrations(db, readMigrations(dir));
    fs.writeFileSync(path.join(dir, '001_a', 'migration.sql'), 'CREATE TABLE a (id bigint);');
    await expect(applyPendingMigrations(db, readMigrations(dir))).rejects.toThrow(
      /edited after it was applied/,
    );

    fs.writeFileSync(path.join(dir, '001_a', 'migration.sql'), 'CREATE TABLE a (id int);');
    fs.mkdirSync(path.join(dir, '002_b'));
    fs.writeFileSync(
      path.join(dir, '002_b', 'migration.sql'),
      'CREATE TABLE b (id int); SELECT no_such_function();',
    );
    await expect(applyPendingMigrations(db, readMigrations(dir))).rejects.toThrow(
      /002_b failed and was rolled back/,
    );
    const b = await db.query("SELECT 1 FROM pg_tables WHERE tablename = 'b'");
    expect(b).toHaveLength(0);
    await lite.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
