/**
 * `npm run chaos -- --runs N [--seed S] [--sites K] [--rounds R]`: kills the coordinator or an agent with
 * SIGKILL at random points of random rounds and checks that every run ends with the uninterrupted run's final
 * checkpoint, bit for bit (test/support/chaos.ts). Needs PostgreSQL (FEDSEG_TEST_POSTGRES or 127.0.0.1:5432).
 * Prints one line per run, a summary, and last one JSON line.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseOrThrow } from '@fedseg/protocol';
import { runChaos } from '../test/support/chaos';

const Args = z.strictObject({
  runs: z.coerce.number().int().min(1).max(10_000).default(10),
  seed: z.coerce
    .number()
    .int()
    .min(0)
    .default(() => Date.now() % 1_000_000),
  sites: z.coerce.number().int().min(1).max(32).default(3),
  rounds: z.coerce.number().int().min(1).max(100).default(3),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      seed: { type: 'string' },
      sites: { type: 'string' },
      rounds: { type: 'string' },
    },
  });
  const args = parseOrThrow(Args, values, 'chaos arguments');
  process.env.FEDSEG_TEST_POSTGRES ??= 'postgresql://postgres@127.0.0.1:5432/postgres';
  const started = Date.now();
  console.log(`chaos: ${args.runs} run(s), seed ${args.seed}, ${args.sites} sites, ${args.rounds} rounds`);
  const summary = await runChaos({ ...args, say: (line) => console.log(line) });
  const seconds = (Date.now() - started) / 1000;
  const fired = summary.runs.filter((r) => r.fired).length;
  console.log(
    `chaos: ${summary.identical}/${args.runs} identical to the reference, ${summary.different} different, ${summary.errors} error(s); ${fired} fault(s) fired; ${seconds.toFixed(0)} s`,
  );
  console.log(
    JSON.stringify({
      runs: args.runs,
      seed: args.seed,
      identical: summary.identical,
      different: summary.different,
      errors: summary.errors,
      fired,
      lost: summary.runs.reduce((n, r) => n + r.lost, 0),
      duplicates: summary.runs.reduce((n, r) => n + r.duplicates, 0),
      seconds: Math.round(seconds),
    }),
  );
  process.exit(summary.identical === args.runs ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
