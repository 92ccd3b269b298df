import fs from 'node:fs';
import { seededRng, uniform01 } from '@fedseg/aggregation';
import { startChildFederation } from './child-federation';
import { faultStudyConfig, startFaultStudy } from './fault-study';
import { waitFor } from './http';
import { recomputeCheckpoints } from './recompute-checkpoints';

/**
 * `npm run soak` and its CI-sized spec: one long study (minSites is every site) under random agent SIGKILLs
 * and two coordinator SIGKILLs with restarts, both before round 10 (at about 10% and 15% of a short soak),
 * so that the coordinator's RSS after round 10 and after the last round are of the same process. At the end every
 * committed round is recomputed from the database (recomputeCheckpoints): nothing lost, nothing counted twice.
 */
export interface SoakOptions {
  rounds: number;
  seed: number;
  sites?: number;
  /** Chance that a round sees one of its agents killed. */
  agentKillChance?: number;
  say?: (line: string) => void;
}

export interface SoakSummary {
  rounds: number;
  lost: number;
  duplicates: number;
  mismatches: number;
  agentKills: number;
  coordinatorRestarts: number;
  rss_mb_round10: number;
  rss_mb_last: number;
  /** Which round rss_mb_round10 was measured after (10, or the last round of a shorter soak). */
  rssRound: number;
  /** RSS after every 10th round (and after round 10 of a shorter soak), MB. */
  rssTrend: number[];
  seconds: number;
  details: string[];
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const say = options.say ?? (() => undefined);
  const rng = seededRng(options.seed);
  const chance = options.agentKillChance ?? 0.3;
  const R = options.rounds;
  const sites = options.sites ?? 3;
  // Before round 10 however long the soak, so both RSS figures are of one process.
  const restartRounds = new Set([
    Math.max(1, Math.min(5, Math.round(R * 0.1))),
    Math.max(2, Math.min(8, Math.round(R * 0.15))),
  ]);
  const rssRound = Math.min(10, R);
  const started = Date.now();
  const fed = await startChildFederation({ prefix: 'fedseg-soak' });
  try {
    const config = faultStudyConfig({ rounds: R, minSites: sites, name: 'soak' });
    const study = await startFaultStudy(fed, { sites, config, prefix: 'soak' });
    const { studyId } = study;
    let agentKills = 0;
    let coordinatorRestarts = 0;
    let rssAt10 = Number.NaN;
    const rssTrend: number[] = [];
    const roundsDone = async () =>
      (await fed.prisma.study.findUniqueOrThrow({ where: { id: studyId } })).roundsDone;

    for (let r = 1; r <= R; r++) {
      await waitFor(
        `round ${r} to start`,
        async () => ((await fed.prisma.round.count({ where: { studyId, index: r } })) > 0 ? true : undefined),
        240_000,
        100,
      );
      if (restartRounds.has(r)) {
        await new Promise((res) => setTimeout(res, Math.floor(uniform01(rng) * 1_500)));
        await fed.restart({ pauseMs: 500 });
        coordinatorRestarts += 1;
        say(`round ${r}: coordinator SIGKILLed and restarted`);
      } else if (uniform01(rng) < chance) {
        const site = study.sites[Math.floor(uniform01(rng) * study.sites.length)]!;
        const delay = Math.floor(uniform01(rng) * 1_000);
        await study.waitForLog(site, new RegExp(`round ${r}: training`), 240_000);
        await new Promise((res) => setTimeout(res, delay));
        await study.killAgent(site);
        await new Promise((res) => setTimeout(res, 300));
        study.spawn(site);
        agentKills += 1;
        say(`round ${r}: agent ${site} SIGKILLed ${delay} ms into training and restarted`);
      }
      // Every 10 rounds, for the trend; the one after round 10 is the reference of the JSON line.
      if (r === rssRound || r % 10 === 0) {
        await waitFor(
          `round ${r} to complete`,
          async () => ((await roundsDone()) >= r ? true : undefined),
          240_000,
          100,
        );
        const rss = rssMb(fed.coordinator!.pid!);
        rssTrend.push(rss);
        if (r === rssRound) rssAt10 = rss;
        say(`round ${r}: coordinator RSS ${rss} MB`);
      }
    }
    await study.waitForStudy('the soak study to complete', (s) => s.status === 'completed', 240_000);
    const rssLast = rssMb(fed.coordinator!.pid!);
    if (R % 10 !== 0) say(`round ${R}: coordinator RSS ${rssLast} MB`);
    const audit = await recomputeCheckpoints(fed.prisma, fed.homeDir, studyId, study.acks());
    return {
      rounds: audit.rounds,
      lost: audit.lost.length,
      duplicates: audit.duplicates.length,
      mismatches: audit.mismatches.length + audit.partial.length,
      agentKills,
      coordinatorRestarts,
      rss_mb_round10: rssAt10,
      rss_mb_last: rssLast,
      rssRound,
      rssTrend,
      seconds: (Date.now() - started) / 1000,
      details: [
        ...audit.lost,
        ...audit.duplicates,
        ...audit.partial,
        ...audit.mismatches.map((m) => JSON.stringify(m)),
      ],
    };
  } finally {
    await fed.close();
  }
}
