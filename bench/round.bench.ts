/**
 * `npm run bench -- round [--sites 4,16,64,128] [--rounds 3] [--secure-aggregation] [--postgres [adminUrl]]
 * [--sites-in-process]`: what a round costs the coordinator itself. --postgres runs it on a throwaway database
 * of a PostgreSQL server (default postgresql://postgres@127.0.0.1:5432/postgres) instead of the embedded
 * PGlite. With --secure-aggregation the sites run the masking protocol too (SecAggSite, threshold a majority):
 * their masking time counts as their handling time, the coordinator's unmasking as overhead.
 *
 * A real coordinator (real socket.io) runs a study of a tiny 3D U-Net with N simulated sites (round-sites.ts),
 * which answer each task at once with a small random delta (no training), sealed and signed like a real
 * agent's. They run on a worker thread of their own, as real sites run on machines of their own
 * (--sites-in-process: on the coordinator's thread, so their CPU counts as the coordinator's, as before).
 * Round overhead = round time (round-started to round-completed, both announced after their database writes)
 * minus the slowest site's own handling time. Marginal cost per site: the least-squares slope of the overhead
 * over N. Bytes on the wire per site and round: the task blobs down, the update blob up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CoordinatorConfig,
  RoundEvents,
  createThrowawayDatabase,
  enrollTestSite,
  startCoordinator,
  type RoundEvent,
} from '@fedseg/coordinator';
import type { StudyConfigInput } from '@fedseg/protocol';
import { median, option, printTable } from './bench-util';
import { runSites, startSitesThread } from './round-sites';

export async function run(args: string[]): Promise<void> {
  const siteCounts = (option(args, 'sites') ?? '4,16,64,128').split(',').map(Number);
  const rounds = Number(option(args, 'rounds') ?? 3);
  const secureAggregation = args.includes('--secure-aggregation');
  const sitesInProcess = args.includes('--sites-in-process');
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-bench-round-'));
  const postgres = args.includes('--postgres')
    ? await createThrowawayDatabase(
        option(args, 'postgres')?.startsWith('postgres')
          ? option(args, 'postgres')!
          : 'postgresql://postgres@127.0.0.1:5432/postgres',
        'fedseg_bench_round',
      )
    : null;
  const coordinator = await startCoordinator(
    // Enrollment and connection bursts from one address are this bench's normal load, not an attack.
    CoordinatorConfig.parse({
      port: 0,
      host: '127.0.0.1',
      homeDir: home,
      databaseUrl: postgres?.url,
      logLevel: 'silent',
      authAttemptsPerMinute: 100_000,
      connectAttemptsPerMinute: 100_000,
    }),
  );
  const events = coordinator.app.get(RoundEvents);
  const token = coordinator.bootstrapAdminToken!;
  const auth = { authorization: `Bearer ${token}` };
  console.log(
    `round: tiny 3D U-Net (base 2, depth 2), ${rounds} rounds per N, simulated sites answering at once; ${postgres ? 'PostgreSQL' : 'embedded PGlite'}${secureAggregation ? '; secure aggregation on (threshold a majority)' : ''}`,
  );
  const rows: string[][] = [];
  const results: Array<Record<string, number>> = [];
  try {
    for (const n of siteCounts) {
      const study: StudyConfigInput = {
        name: `bench round N=${n}`,
        model: { architecture: 'unet3d', numClasses: 2, baseFilters: 2, depth: 2 },
        training: { epochs: 1, patchSize: [16, 16, 16] },
        rounds,
        minSites: n,
        sites: Array.from({ length: n }, (_, i) => `bench-${n}-${i}`),
        roundDeadlineMs: 300_000,
        // a majority threshold: every site is in the round (at most 2t - 1 are)
        ...(secureAggregation ? { secureAggregation: { threshold: Math.floor(n / 2) + 1 } } : {}),
      };
      const created = await fetch(`${coordinator.url}/studies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify(study),
      });
      const studyId = ((await created.json()) as { id: string }).id;
      const enrolled = await Promise.all(
        Array.from({ length: n }, (_, i) => enrollTestSite(coordinator.url, token, `bench-${n}-${i}`)),
      );
      const sites = await (sitesInProcess ? runSites : startSitesThread)(coordinator.url, enrolled, studyId);
      const started = new Map<number, number>();
      const durations = new Map<number, number>();
      const done = new Promise<void>((resolve) => {
        const off = events.subscribe((e: RoundEvent) => {
          if (e.studyId !== studyId) return;
          if (e.type === 'round-started') started.set(e.round, performance.now());
          if (e.type === 'round-completed')
            durations.set(e.round, performance.now() - (started.get(e.round) ?? performance.now()));
          if (e.type === 'study-status' && e.status !== 'running') {
            off();
            resolve();
          }
        });
      });
      await fetch(`${coordinator.url}/studies/${studyId}/start`, { method: 'POST', headers: auth });
      await done;
      const stats = (await sites.finish()).map((s) => ({ ...s, handlingMs: new Map(s.handlingMs) }));
      const roundMs = [...durations.values()];
      const overheadMs = [...durations.entries()].map(
        ([r, ms]) => ms - Math.max(...stats.map((s) => s.handlingMs.get(r) ?? 0)),
      );
      const down = stats.reduce((a, s) => a + s.downBytes, 0) / n / rounds;
      const up = stats.reduce((a, s) => a + s.upBytes, 0) / n / rounds;
      rows.push([
        String(n),
        median(roundMs).toFixed(0),
        median(overheadMs).toFixed(0),
        (median(overheadMs) / n).toFixed(2),
        down.toFixed(0),
        up.toFixed(0),
      ]);
      results.push({
        sites: n,
        round_ms: median(roundMs),
        overhead_ms: median(overheadMs),
        down_bytes_per_site: down,
        up_bytes_per_site: up,
      });
    }
  } finally {
    await coordinator.close();
    await postgres?.drop();
    fs.rmSync(home, { recursive: true, force: true });
  }
  const slope = leastSquaresSlope(
    results.map((r) => r.sites),
    results.map((r) => r.overhead_ms),
  );
  printTable(
    [
      'sites',
      'round ms (median)',
      'overhead ms',
      'overhead ms/site',
      'bytes down/site/round',
      'bytes up/site/round',
    ],
    rows,
  );
  if (results.length > 1)
    console.log(`marginal overhead per added site (least squares): ${slope.toFixed(2)} ms`);
  console.log(
    JSON.stringify({
      bench: 'round',
      rounds,
      secureAggregation,
      sitesOnTheirOwnThread: !sitesInProcess,
      marginal_ms_per_site: results.length > 1 ? slope : null,
      database: postgres ? 'postgresql' : 'pglite',
      results,
    }),
  );
}

/** The slope of the least-squares line through (x, y). */
function leastSquaresSlope(x: readonly number[], y: readonly number[]): number {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let num = 0;
  let den = 0;
  x.forEach((xi, i) => {
    num += (xi - mx) * (y[i]! - my);
    den += (xi - mx) ** 2;
  });
  return num / den;
}
