import { z } from 'zod';
import { parseOrThrow } from '@fedseg/protocol';

/** Everything the coordinator reads from its environment, parsed once at start. */
export const CoordinatorConfig = z.object({
  port: z.coerce.number().int().min(0).max(65_535).default(4800),
  host: z.string().min(1).default('127.0.0.1'),
  databaseUrl: z.string().optional(),
  homeDir: z.string().min(1).default('.fedseg'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Largest socket.io message (an encoded update). */
  maxMessageBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .default(512 * 1024 * 1024),
});
export type CoordinatorConfig = z.infer<typeof CoordinatorConfig>;

export function coordinatorConfigFromEnv(env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  return parseOrThrow(
    CoordinatorConfig,
    {
      port: env.PORT,
      host: env.HOST,
      databaseUrl: env.DATABASE_URL || undefined,
      homeDir: env.FEDSEG_HOME,
      logLevel: env.LOG_LEVEL,
      maxMessageBytes: env.FEDSEG_MAX_MESSAGE_BYTES,
    },
    'coordinator environment',
  );
}
