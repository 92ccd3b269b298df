import { parseArgs } from 'node:util';
import { coordinatorConfigFromEnv } from './config/coordinator-config';
import { startCoordinator } from './coordinator';

/**
 * `npm run coordinator [-- --tls-cert FILE --tls-key FILE]`: configuration comes from the environment (PORT,
 * HOST, DATABASE_URL, FEDSEG_HOME, LOG_LEVEL, FEDSEG_TLS_CERT, FEDSEG_TLS_KEY, …); the TLS flags override it.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, port: { type: 'string' } },
  });
  const config = coordinatorConfigFromEnv({
    ...process.env,
    ...(values['tls-cert'] ? { FEDSEG_TLS_CERT: values['tls-cert'] } : {}),
    ...(values['tls-key'] ? { FEDSEG_TLS_KEY: values['tls-key'] } : {}),
    ...(values.port ? { PORT: values.port } : {}),
  });
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
