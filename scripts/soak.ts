/**
 * `npm run soak -- --rounds 50 [--seed S] [--sites K]`: one long study under random agent SIGKILLs and two
 * coordinator SIGKILLs with restarts (test/support/soak.ts); every round recomputed from the database at the
 * end. Needs PostgreSQL (FEDSEG_TEST_POSTGRES or 127.0.0.1:5432). The last line is exactly one JSON object:
 * {"rounds","lost","duplicates","rss_mb_round10","rss_mb_last"}.
 */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseOrThrow } from '@fedseg/protocol';
import { runSoak } from '../test/support/soak';

const Args = z.strictObject({
  rounds: z.coerce.number().int().min(2).max(10_000).default(50),
  seed: z.coerce
    .number()
    .int()
    .min(0)
    .default(() => Date.now() % 1_000_000),
  sites: z.coerce.number().int().min(1).max(32).default(3),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string' }, seed: { type: 'string' }, sites: { type: 'string' } },
  });
  const args = parseOrThrow(Args, values, 'soak arguments');
  process.env.FEDSEG_TEST_POSTGRES ??= 'postgresql://postgres@127.0.0.1:5432/postgres';
  console.log(`soak: ${args.rounds} rounds, ${args.sites} sites, seed ${args.seed}`);
  const s = await runSoak({ ...args, say: (line) => console.log(line) });
  for (const line of s.details) console.log(`  ${line}`);
  const growth = ((s.rss_mb_last / s.rss_mb_round10 - 1) * 100).toFixed(1);
  console.log(
    `soak: ${s.rounds} rounds recomputed, ${s.mismatches} mismatch(es), ${s.lost} lost, ${s.duplicates} counted twice; ${s.agentKills} agent kill(s), ${s.coordinatorRestarts} coordinator restart(s); RSS ${s.rss_mb_round10} MB after round ${s.rssRound}, ${s.rss_mb_last} MB after the last (${growth}%); ${s.seconds.toFixed(0)} s`,
  );
  console.log(
    JSON.stringify({
      rounds: s.rounds,
      lost: s.lost,
      duplicates: s.duplicates,
      rss_mb_round10: s.rss_mb_round10,
      rss_mb_last: s.rss_mb_last,
    }),
  );
  process.exit(s.lost + s.duplicates + s.mismatches === 0 && s.rounds === args.rounds ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
