import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { seededRng, uniform01, type Rng } from '@fedseg/aggregation';
import { startChildFederation, type ChildFederation } from './child-federation';
import {
  createFaultStudy,
  faultStudyConfig,
  startFaultSites,
  type FaultSites,
  type FaultStudy,
} from './fault-study';
import { waitFor } from './http';
import { recomputeCheckpoints, type CheckpointAudit } from './recompute-checkpoints';

/**
 * `npm run chaos` and its CI-sized spec: one federation (coordinator as a child process, agents as child
 * processes, fresh PostgreSQL database), one uninterrupted reference study, then `runs` studies of the same
 * config on the same sites, each broken once at a random point of a random round: the coordinator SIGKILLs
 * itself at a fault point (FEDSEG_FAULT_KILL_AT), or is SIGKILLed at a random time, or an agent is SIGKILLed
 * at a random moment of a round. The broken process is started again. minSites is every site, so a study
 * waits for its killed agent. Each run's final checkpoint must be bit-identical to the reference's, and
 * recomputeCheckpoints must find nothing lost or counted twice.
 */
export interface ChaosOptions {
  runs: number;
  seed: number;
  sites?: number;
  rounds?: number;
  /** One line per event, for people. */
  say?: (line: string) => void;
}

export interface ChaosRun {
  run: number;
  fault: string;
  /** Whether the fault happened (a fault point is not reached when the study ends first). */
  fired: boolean;
  identical: boolean;
  finalSha256: string | null;
  lost: number;
  duplicates: number;
  mismatches: number;
  seconds: number;
  error?: string;
}

export interface ChaosSummary {
  seed: number;
  sites: number;
  rounds: number;
  reference: string;
  runs: ChaosRun[];
  identical: number;
  different: number;
  errors: number;
}

// mid-upload is reached only by updates of two chunks or more; the chaos model's updates are one chunk.
const POINTS = ['dispatch', 'before-record', 'mid-aggregation', 'mid-evaluation'] as const;

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(uniform01(rng) * items.length)]!;
}
function between(rng: Rng, lo: number, hi: number): number {
  return lo + Math.floor(uniform01(rng) * (hi - lo + 1));
}

type Fault =
  | { kind: 'point'; point: (typeof POINTS)[number]; nth: number }
  | { kind: 'coordinator'; round: number; afterMs: number }
  | { kind: 'agent'; site: string; round: number; afterMs: number };

function describeFault(f: Fault): string {
  if (f.kind === 'point') return `coordinator fault point ${f.point}@${f.nth}`;
  if (f.kind === 'coordinator') return `coordinator SIGKILL ${f.afterMs} ms into round ${f.round}`;
  return `agent ${f.site} SIGKILL ${f.afterMs} ms into round ${f.round}`;
}

/** `roundMs`: how long a round of the uninterrupted study took, so a timed kill lands inside its round. */
function drawFault(rng: Rng, sites: readonly string[], rounds: number, roundMs: number): Fault {
  const round = between(rng, 1, rounds);
  const kind = pick(rng, ['point', 'coordinator', 'agent'] as const);
  if (kind === 'point') {
    const point = pick(rng, POINTS);
    // before-record is reached once per update, the others about once per round.
    const nth =
      point === 'before-record' ? (round - 1) * sites.length + between(rng, 1, sites.length) : round;
    return { kind, point, nth };
  }
  if (kind === 'coordinator') return { kind, round, afterMs: between(rng, 0, roundMs) };
  return { kind, site: pick(rng, sites), round, afterMs: between(rng, 0, 1_500) };
}

async function finalCheckpoint(fed: ChildFederation, studyId: string, rounds: number): Promise<string> {
  const row = await fed.prisma.checkpoint.findFirstOrThrow({ where: { studyId, roundIndex: rounds } });
  const bytes = fs.readFileSync(path.join(fed.homeDir, 'blobs', row.storageKey));
  return crypto.createHash('sha256').update(bytes).digest('hex');
}

async function settle(
  fed: ChildFederation,
  study: FaultStudy,
  rounds: number,
): Promise<{ sha: string; audit: CheckpointAudit }> {
  await study.waitForStudy(`study ${study.studyId} to complete`, (s) => s.status === 'completed', 240_000);
  const audit = await recomputeCheckpoints(fed.prisma, fed.homeDir, study.studyId, study.acks());
  return { sha: await finalCheckpoint(fed, study.studyId, rounds), audit };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosSummary> {
  const say = options.say ?? (() => undefined);
  const sites = options.sites ?? 3;
  const rounds = options.rounds ?? 3;
  const rng = seededRng(options.seed);
  const config = faultStudyConfig({ rounds, minSites: sites, name: 'chaos' });
  const fed = await startChildFederation({ prefix: 'fedseg-chaos' });
  const runs: ChaosRun[] = [];
  try {
    const agents: FaultSites = await startFaultSites(fed, { sites, prefix: 'chaos' });
    for (const site of agents.sites) agents.spawn(site);

    const referenceStudy = await createFaultStudy(fed, agents, config);
    const reference = await settle(fed, referenceStudy, rounds);
    // From round 1's start, not the study's: the agents' first start (tfjs loading) is no part of a run.
    const round1 = await fed.prisma.round.findFirstOrThrow({
      where: { studyId: referenceStudy.studyId, index: 1 },
    });
    const referenceMs = Date.now() - round1.startedAt.getTime();
    say(
      `reference: ${rounds} rounds, ${sites} sites, final checkpoint ${reference.sha.slice(0, 16)} (${(referenceMs / 1000).toFixed(1)} s)`,
    );

    for (let run = 1; run <= options.runs; run++) {
      const fault = drawFault(rng, agents.sites, rounds, Math.round(referenceMs / rounds));
      const t0 = Date.now();
      let fired = false;
      const result: ChaosRun = {
        run,
        fault: describeFault(fault),
        fired,
        identical: false,
        finalSha256: null,
        lost: 0,
        duplicates: 0,
        mismatches: 0,
        seconds: 0,
      };
      try {
        if (fault.kind === 'point')
          await fed.restart({ faultKillAt: `${fault.point}@${fault.nth}`, pauseMs: 0 });
        const study = await createFaultStudy(fed, agents, config);
        if (fault.kind === 'point') {
          // Either the coordinator kills itself at the point, or the study ends first (the point not reached).
          const done = study.waitForStudy('completion', (s) => s.status === 'completed', 240_000);
          done.catch(() => undefined); // settle() below says what became of the study
          const how = await Promise.race([
            fed.exited(240_000).then((h) => ({ exited: h })),
            done.then(() => null),
          ]);
          if (how) {
            fired = true;
            await fed.restart({ pauseMs: 500 });
          } else {
            // Not reached: the next run must not inherit a coordinator armed with it.
            await fed.restart({ pauseMs: 0 });
          }
        } else if (fault.kind === 'coordinator') {
          await waitFor(
            `round ${fault.round} to start`,
            async () =>
              (await fed.prisma.round.count({ where: { studyId: study.studyId, index: fault.round } })) > 0
                ? true
                : undefined,
            240_000,
            20,
          );
          await new Promise((r) => setTimeout(r, fault.afterMs));
          const s = (await fed.get(`/studies/${study.studyId}`)).json as { status: string };
          if (s.status !== 'completed') {
            fired = true;
            await fed.restart({ pauseMs: 500 });
          }
        } else {
          const label = new RegExp(`study ${study.studyId.slice(0, 8)} round ${fault.round}: training`);
          await agents.waitForLog(fault.site, label, 240_000);
          await new Promise((r) => setTimeout(r, fault.afterMs));
          await agents.killAgent(fault.site);
          fired = true;
          await new Promise((r) => setTimeout(r, 500));
          agents.spawn(fault.site);
        }
        const { sha, audit } = await settle(fed, study, rounds);
        Object.assign(result, {
          fired,
          finalSha256: sha,
          identical: sha === reference.sha,
          lost: audit.lost.length,
          duplicates: audit.duplicates.length,
          mismatches: audit.mismatches.length + audit.partial.length,
        });
        if (audit.lost.length + audit.duplicates.length + audit.mismatches.length > 0)
          result.error = JSON.stringify({
            lost: audit.lost,
            duplicates: audit.duplicates,
            mismatches: audit.mismatches,
          });
      } catch (err) {
        result.fired = fired;
        result.error = err instanceof Error ? err.message : String(err);
        // Leave a running, unarmed coordinator for the next run.
        await fed.restart({ pauseMs: 0 }).catch(() => undefined);
      }
      result.seconds = (Date.now() - t0) / 1000;
      runs.push(result);
      say(
        `run ${run}/${options.runs}: ${result.fault}${result.fired ? '' : ' (not reached)'}: ${
          result.error
            ? `ERROR ${result.error}`
            : result.identical
              ? 'identical'
              : `DIFFERENT ${result.finalSha256?.slice(0, 16)}`
        } (${result.seconds.toFixed(1)} s)`,
      );
    }
    return {
      seed: options.seed,
      sites,
      rounds,
      reference: reference.sha,
      runs,
      identical: runs.filter((r) => r.identical && !r.error).length,
      different: runs.filter((r) => !r.identical && !r.error).length,
      errors: runs.filter((r) => r.error).length,
    };
  } finally {
    await fed.close();
  }
}
