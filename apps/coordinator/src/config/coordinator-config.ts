import { z } from 'zod';
import { parseOrThrow } from '@fedseg/protocol';

/** Everything the coordinator reads from its environment, parsed once at start. */
export const CoordinatorConfig = z
  .object({
    port: z.coerce.number().int().min(0).max(65_535).default(4800),
    host: z.string().min(1).default('127.0.0.1'),
    databaseUrl: z.string().optional(),
    homeDir: z.string().min(1).default('.fedseg'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Largest socket.io message. Updates move in sealed chunks of at most 512 KiB; anything bigger is refused. */
    maxMessageBytes: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .default(1024 * 1024),
    /** Largest whole update a site may upload (the sum of its chunks). */
    maxUpdateBytes: z.coerce
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024 * 1024),
    /**
     * Update uploads held open at once, across all sites (each a partial blob on disk; their announced sizes
     * are bounded too, 8 GiB in all). A site refused for this (TOO_MANY_TRANSFERS) sends its update again later.
     */
    maxOpenUploads: z.coerce.number().int().min(1).default(1024),
    /** The coordinator's key file (signing and agreement keys); made on first start. */
    identityFile: z.string().min(1).optional(),
    /** PEM files: with both, the coordinator serves HTTPS and WSS only. */
    tlsCertFile: z.string().min(1).optional(),
    tlsKeyFile: z.string().min(1).optional(),
    /** Per remote address and minute: failed authentications, enrollment attempts, socket connection attempts. */
    authAttemptsPerMinute: z.coerce.number().int().min(1).default(30),
    connectAttemptsPerMinute: z.coerce.number().int().min(1).default(120),
    /**
     * socket.io heartbeat: the coordinator pings every agent this often and the agent answers, so both
     * directions carry a packet at least this often however long local training runs. Hospital proxies and NATs
     * drop flows idle for a minute or more (peers see idle disconnects after 4-10 min of local work); 25 s
     * stays under those.
     */
    pingIntervalMs: z.coerce.number().int().min(1_000).max(300_000).default(25_000),
    /** How long an agent may take to answer a ping before its connection counts as lost. */
    pingTimeoutMs: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
  })
  .refine((c) => (c.tlsCertFile === undefined) === (c.tlsKeyFile === undefined), {
    path: ['tlsKeyFile'],
    message: 'give both --tls-cert and --tls-key, or neither',
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
      maxUpdateBytes: env.FEDSEG_MAX_UPDATE_BYTES,
      maxOpenUploads: env.FEDSEG_MAX_OPEN_UPLOADS,
      identityFile: env.FEDSEG_IDENTITY_FILE || undefined,
      tlsCertFile: env.FEDSEG_TLS_CERT || undefined,
      tlsKeyFile: env.FEDSEG_TLS_KEY || undefined,
      authAttemptsPerMinute: env.FEDSEG_AUTH_ATTEMPTS_PER_MINUTE,
      connectAttemptsPerMinute: env.FEDSEG_CONNECT_ATTEMPTS_PER_MINUTE,
      pingIntervalMs: env.FEDSEG_PING_INTERVAL_MS,
      pingTimeoutMs: env.FEDSEG_PING_TIMEOUT_MS,
    },
    'coordinator environment',
  );
}
