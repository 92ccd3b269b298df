import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoordinatorConfig } from '../config/coordinator-config';
import { startCoordinator, type RunningCoordinator } from '../coordinator';
import { DATABASE } from '../core/tokens';
import type { OpenDatabase } from '../database/database-adapter';

/** A real coordinator on a throwaway embedded database, for integration specs. */
export async function startTestCoordinator(): Promise<
  RunningCoordinator & { prisma: OpenDatabase['prisma']; home: string; adminToken: string }
> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-coordinator-'));
  const coordinator = await startCoordinator(
    CoordinatorConfig.parse({ port: 0, host: '127.0.0.1', homeDir: home, logLevel: 'silent' }),
  );
  return {
    ...coordinator,
    home,
    adminToken: coordinator.bootstrapAdminToken!,
    prisma: coordinator.app.get<OpenDatabase>(DATABASE).prisma,
    close: async () => {
      await coordinator.close();
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
