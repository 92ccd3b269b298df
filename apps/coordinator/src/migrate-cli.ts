import { coordinatorConfigFromEnv } from './config/coordinator-config';
import { openDatabase, resolveDatabaseTarget } from './database/database-adapter';

/** `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database) and says which. */
async function main(): Promise<void> {
  const config = coordinatorConfigFromEnv();
  const target = resolveDatabaseTarget(config.databaseUrl, config.homeDir);
  const db = await openDatabase(target);
  console.log(
    db.migrated.length
      ? `applied ${db.migrated.join(', ')} to ${target.description}`
      : `${target.description} is up to date`,
  );
  await db.close();
}

main().catch((err: unknown) => {
  console.error(`migration failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
