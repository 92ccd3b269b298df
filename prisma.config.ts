import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { createMigrationAdapter } from './apps/coordinator/src/database/database-target';

// Prisma's native engines cannot be downloaded here; engine "js" runs migrations on the WebAssembly
// schema engine through the same driver adapter the coordinator uses (PGlite unless DATABASE_URL is set).
export default defineConfig({
  experimental: { adapter: true },
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  engine: 'js',
  adapter: async () => createMigrationAdapter(process.env.DATABASE_URL),
});
