import { coordinatorConfigFromEnv } from './config/coordinator-config';
import { startCoordinator } from './coordinator';

/** `npm run coordinator`: configuration comes from the environment (PORT, HOST, DATABASE_URL, FEDSEG_HOME, LOG_LEVEL). */
async function main(): Promise<void> {
  const config = coordinatorConfigFromEnv();
  const coordinator = await startCoordinator(config);
  const stop = async () => {
    await coordinator.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  console.error(`coordinator failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
