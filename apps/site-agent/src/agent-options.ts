import { z } from 'zod';
import { EnrollmentTokenText, SiteName } from '@fedseg/protocol';

const CoordinatorUrl = z.url({ message: 'must be a URL such as https://coordinator.example.org:4800' });
const Home = z.string().min(1).optional();

/**
 * An HTTP(S) forward proxy: http://[user:password@]host:port or https://... (TLS to the proxy itself). Only a
 * scheme, credentials, host and port: anything else is a typo that would otherwise send traffic elsewhere.
 */
export const ProxyUrl = z
  .string()
  .trim()
  .transform((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `"${text.replace(/\/\/[^@/]*@/, '//***@')}" is not a proxy URL; expected http://host:port or http://user:password@host:port`,
      });
      return z.NEVER;
    }
    if (
      !['http:', 'https:'].includes(url.protocol) ||
      !url.hostname ||
      (url.pathname !== '/' && url.pathname !== '') ||
      url.search ||
      url.hash
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `proxy ${url.protocol}//${url.host}${url.pathname} is not supported; expected http://host:port or https://host:port (an HTTP CONNECT proxy, no path)`,
      });
      return z.NEVER;
    }
    return url;
  });

/** How the agent leaves the site's network: proxy variables as curl and most tools read them. */
export const ProxySettings = z.strictObject({
  /** --proxy / FEDSEG_PROXY: this proxy for every coordinator URL, whatever the scheme. */
  proxy: ProxyUrl.optional(),
  /** HTTPS_PROXY: for https:// coordinators. */
  httpsProxy: ProxyUrl.optional(),
  /** HTTP_PROXY: for http:// coordinators. */
  httpProxy: ProxyUrl.optional(),
  /** NO_PROXY: comma-separated hosts (example.org, .example.org, *.example.org, host:port, *) reached directly. */
  noProxy: z.string().default(''),
  /** How long a proxy may take to answer CONNECT. */
  proxyConnectTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(20_000),
});
export type ProxySettings = z.infer<typeof ProxySettings>;

/** The proxy environment, lower-case names first (as curl: upper-case HTTP_PROXY can be set by CGI headers). */
export function proxySettingsFrom(env: NodeJS.ProcessEnv, flag?: string): Record<string, unknown> {
  const pick = (name: string) => env[name.toLowerCase()] || env[name] || undefined;
  return {
    proxy: flag ?? (env.FEDSEG_PROXY || undefined),
    httpsProxy: pick('HTTPS_PROXY'),
    httpProxy: pick('HTTP_PROXY'),
    noProxy: pick('NO_PROXY'),
    proxyConnectTimeoutMs: env.FEDSEG_PROXY_CONNECT_TIMEOUT_MS || undefined,
  };
}

/** `fedseg-agent run` options: flags first, then FEDSEG_* environment variables, then defaults. */
export const RunOptions = z.strictObject({
  /** Defaults to the coordinator the site enrolled with. */
  coordinator: CoordinatorUrl.optional(),
  /** Optional: the enrolled identity names the site; when given, it must match. */
  site: SiteName.optional(),
  home: Home,
  data: z.string().min(1),
  backend: z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']).default('auto'),
  /** Share of cases kept aside (deterministically) to score global models. */
  valFraction: z.coerce.number().min(0).max(0.9).default(0.25),
  maxConcurrentStudies: z.coerce.number().int().min(1).max(64).default(2),
  /** Testing aid: every update sent is also written here (it never leaves the site). */
  dumpUpdates: z.string().optional(),
  seed: z.coerce.number().int().min(0).default(0),
  /** Memory this site gives one training step, MiB; sent in the data fingerprint so the plan fits here. */
  memoryMb: z.coerce.number().positive().optional(),
  /** Bytes per chunk of update uploads and model downloads (one socket message each): smaller for slow links. */
  chunkBytes: z.coerce
    .number()
    .int()
    .min(1024)
    .max(512 * 1024)
    .optional(),
  verbose: z.boolean().default(false),
  /** Plain log lines instead of a redrawn progress line (for files and CI). */
  plain: z.boolean().default(false),
  /** An HTTP(S) proxy for the coordinator connection; overrides HTTPS_PROXY/HTTP_PROXY (see ProxySettings). */
  proxy: ProxyUrl.optional(),
});
export type RunOptions = z.infer<typeof RunOptions>;

/** Minimal flag parser: `--name value`, `--name=value`, `--flag`. Unknown flags are refused by the schema. */
export function parseFlags(argv: readonly string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--'))
      throw new Error(`Unexpected argument "${arg}"; options look like --name value.`);
    const eq = arg.indexOf('=');
    const name = (eq >= 0 ? arg.slice(2, eq) : arg.slice(2)).replace(/-([a-z])/g, (_, c: string) =>
      c.toUpperCase(),
    );
    if (eq >= 0) out[name] = arg.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) out[name] = argv[++i]!;
    else out[name] = true;
  }
  return out;
}

/** `fedseg-agent enroll` options. The token is a one-time secret: give it by flag or FEDSEG_ENROLLMENT_TOKEN. */
export const EnrollOptions = z.strictObject({
  coordinator: CoordinatorUrl,
  token: EnrollmentTokenText,
  site: SiteName,
  home: Home,
  verbose: z.boolean().default(false),
});
export type EnrollOptions = z.infer<typeof EnrollOptions>;

/** `fedseg-agent approve` options. */
export const ApproveOptions = z.strictObject({
  study: z.uuid({ message: 'must be a study id (a UUID)' }),
  coordinator: CoordinatorUrl.optional(),
  home: Home,
  /** Approve without asking (after reviewing the plan some other way). */
  yes: z.boolean().default(false),
  /** Approve only if the plan's hash is exactly this one (what the admin reviewed). */
  planHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  verbose: z.boolean().default(false),
});
export type ApproveOptions = z.infer<typeof ApproveOptions>;

export function optionsFrom(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const flags = parseFlags(argv);
  return { coordinator: env.FEDSEG_COORDINATOR, home: env.FEDSEG_AGENT_HOME, ...extra, ...flags };
}

export function runOptionsFrom(argv: readonly string[], env: NodeJS.ProcessEnv): Record<string, unknown> {
  const flags = parseFlags(argv);
  return {
    coordinator: env.FEDSEG_COORDINATOR,
    site: env.FEDSEG_SITE,
    home: env.FEDSEG_AGENT_HOME,
    data: env.FEDSEG_DATA,
    backend: env.FEDSEG_BACKEND,
    proxy: env.FEDSEG_PROXY || undefined,
    ...flags,
  };
}
