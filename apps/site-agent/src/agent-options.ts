import { z } from 'zod';

/** `fedseg-agent run` options: flags first, then FEDSEG_* environment variables, then defaults. */
export const RunOptions = z.strictObject({
  coordinator: z.url({ message: 'must be a URL such as http://coordinator.example.org:4800' }),
  site: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'letters, digits, dot, dash and underscore only'),
  data: z.string().min(1),
  backend: z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']).default('auto'),
  /** Share of cases kept aside (deterministically) to score global models. */
  valFraction: z.coerce.number().min(0).max(0.9).default(0.25),
  maxConcurrentStudies: z.coerce.number().int().min(1).max(64).default(2),
  /** Testing aid: every update sent is also written here (it never leaves the site). */
  dumpUpdates: z.string().optional(),
  seed: z.coerce.number().int().min(0).default(0),
  verbose: z.boolean().default(false),
  /** Plain log lines instead of a redrawn progress line (for files and CI). */
  plain: z.boolean().default(false),
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

export function runOptionsFrom(argv: readonly string[], env: NodeJS.ProcessEnv): Record<string, unknown> {
  const flags = parseFlags(argv);
  return {
    coordinator: env.FEDSEG_COORDINATOR,
    site: env.FEDSEG_SITE,
    data: env.FEDSEG_DATA,
    backend: env.FEDSEG_BACKEND,
    ...flags,
  };
}
