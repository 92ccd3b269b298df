/**
 * `npm run bench -- time-to-dice [--max-rounds 30] [--target 0.9] [--backend auto] [--timeout-s 3600] [--keep]`
 *
 * The demo federation (apps/coordinator/src/demo/demo.ts: 4 synthetic sites x 8 phantom cases of 32^3, the
 * same U-Net and training config, FedAvg) runs on loopback with real agent processes until the global
 * model's mean validation Dice (the coordinator's `valDice`: sample-weighted mean over the sites of each
 * site's Dice on its own validation split) reaches --target, or --max-rounds rounds. Figure: wall-clock
 * seconds and rounds, counted from the moment the study is started and the agents are launched (so agent
 * start-up, data loading and every round's evaluation phase are in it).
 *
 * Peer (../shared/BENCHMARKS.md): centralized training on the pooled data, in this process after the
 * federation, with the same model, initial weights, TrainingConfig and wall-clock budget. Every site's
 * data is loaded by the agent's own loader (same 25% validation split, same normalisation, same patch
 * sampler); one "round-equivalent" is one `trainLocal` call with the study's TrainingConfig on the pooled
 * training cases (24 cases x 3 epochs = 36 optimizer steps, exactly the steps the 4 sites take together
 * in one round), followed by `evaluateSegmentation` on the pooled validation cases. It stops once its
 * elapsed time passes the federation's. Its clock includes data loading and evaluation too.
 *
 * Not like for like in one respect: the 4 agents run in parallel processes (they share the machine's
 * cores), the centralized peer trains in one process with one wasm thread. One run, not a median: a run
 * takes minutes on a 2-core machine. Prints the table, then one JSON line.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { generateConsortium } from '@fedseg/imaging';
import {
  CoordinatorConfig,
  demoStudyInput,
  RoundEvents,
  spawnAgent,
  approveStudy,
  enrollSites,
  startCoordinator,
  stopAgent,
  type RoundEvent,
} from '@fedseg/coordinator';
import {
  createSegmentationModel,
  evaluateSegmentation,
  initBackend,
  trainLocal,
  type TrainingSample,
} from '@fedseg/models';
import { StudyConfig } from '@fedseg/protocol';
import { loadSiteData } from '../apps/site-agent/src/site-data';
import { fmt, printTable } from './bench-util';

interface Args {
  maxRounds: number;
  target: number;
  backend: 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  timeoutS: number;
  keep: boolean;
}

const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

/** The agent's defaults (apps/site-agent/src/agent-options.ts), so the peer sees the very same split. */
const VAL_FRACTION = 0.25;
const SPLIT_SEED = 0;

function parseArgs(argv: readonly string[]): Args {
  // Both `--name value` (bench-util style) and `--name=value` (aggregate/codec style) are accepted.
  const get = (name: string): string | undefined => {
    const eq = argv.find((a) => a.startsWith(`--${name}=`));
    if (eq) return eq.slice(name.length + 3);
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const backend = get('backend') ?? 'auto';
  const isBackend = (b: string): b is Args['backend'] => (BACKENDS as readonly string[]).includes(b);
  const args = {
    maxRounds: Number(get('max-rounds') ?? '30'),
    target: Number(get('target') ?? '0.9'),
    backend: isBackend(backend) ? backend : null,
    timeoutS: Number(get('timeout-s') ?? '3600'),
    keep: argv.includes('--keep'),
  };
  if (
    !(
      Number.isInteger(args.maxRounds) &&
      args.maxRounds >= 1 &&
      args.target > 0 &&
      args.target <= 1 &&
      args.timeoutS > 0
    ) ||
    !args.backend
  ) {
    throw new Error(
      'usage: time-to-dice [--max-rounds N] [--target 0.9] [--backend auto|tensorflow|webgpu|wasm|cpu] [--timeout-s S] [--keep]',
    );
  }
  return { ...args, backend: args.backend };
}

/** The demo's study, with every site required each round and the round cap. */
function studyConfig(maxRounds: number, sites: number): StudyConfig {
  return StudyConfig.parse(demoStudyInput({ sites, rounds: maxRounds, name: 'bench: time-to-dice' }));
}

interface Point {
  /** Round (federated) or round-equivalent (centralized), from 1. */
  round: number;
  seconds: number;
  dice: number | null;
}

async function post(url: string, body: unknown, token: string): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`POST ${url} -> ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Runs the federation; returns one point per completed round (the last one may be the one that hit the target). */
async function runFederation(
  args: Args,
  study: StudyConfig,
  siteDirs: string[],
  home: string,
): Promise<{ points: Point[]; seconds: number; outcome: string }> {
  const config = CoordinatorConfig.parse({
    port: 0,
    host: '127.0.0.1',
    homeDir: path.join(home, 'coordinator'),
    logLevel: 'warn',
  });
  const coordinator = await startCoordinator(config);
  const agents: ChildProcess[] = [];
  const points: Point[] = [];
  let unsubscribe = (): void => undefined;
  try {
    const token = coordinator.bootstrapAdminToken!;
    const names = siteDirs.map((_, i) => `hospital-${i + 1}`);
    const homeOf = (site: string) => path.join(home, 'agents', site);
    // Enrollment and approval happen before the clock starts: they are a one-time setup, not training time.
    await enrollSites({ url: coordinator.url, adminToken: token, sites: names, homeOf });
    const created = (await post(`${coordinator.url}/studies`, study, token)) as { id: string };
    await approveStudy({ studyId: created.id, sites: names, homeOf });
    const events = coordinator.app.get(RoundEvents);
    let t0 = 0;
    // Settles on the round that reaches the target, the last round, a study that stops, or the timeout.
    const done = new Promise<string>((resolve) => {
      unsubscribe = events.subscribe((e: RoundEvent) => {
        if (e.studyId !== created.id) return;
        if (e.type === 'round-completed') {
          const seconds = (performance.now() - t0) / 1000;
          points.push({ round: e.round, seconds, dice: e.valDice });
          console.log(
            `  federated round ${e.round}: ${seconds.toFixed(1)} s, val Dice ${e.valDice === null ? 'n/a' : e.valDice.toFixed(4)}`,
          );
          if (e.valDice !== null && e.valDice >= args.target) resolve('target reached');
          else if (e.round >= args.maxRounds) resolve('round cap reached');
        }
        if (e.type === 'round-failed') console.log(`  federated round ${e.round} failed: ${e.reason}`);
        if (e.type === 'study-status' && e.status !== 'running' && e.status !== 'completed')
          resolve(`study ${e.status}: ${e.reason ?? ''}`);
      });
    });
    const timeout = new Promise<string>((resolve) =>
      setTimeout(() => resolve('timed out'), args.timeoutS * 1000).unref(),
    );
    t0 = performance.now();
    await post(`${coordinator.url}/studies/${created.id}/start`, {}, token);
    siteDirs.forEach((dataDir, i) =>
      agents.push(
        spawnAgent({
          coordinatorUrl: coordinator.url,
          site: names[i]!,
          home: homeOf(names[i]!),
          dataDir,
          logFile: path.join(home, 'logs', `hospital-${i + 1}.log`),
          extraArgs: ['--backend', args.backend],
        }),
      ),
    );
    const outcome = await Promise.race([done, timeout]);
    const seconds = (performance.now() - t0) / 1000;
    // Pause first so that no further round starts while the agents are being stopped (a study that already
    // completed answers with an error, which is fine).
    await post(`${coordinator.url}/studies/${created.id}/pause`, {}, token).catch(() => undefined);
    return { points, seconds, outcome };
  } finally {
    unsubscribe();
    await Promise.all(agents.map((a) => stopAgent(a)));
    await coordinator.close();
  }
}

/** Centralized peer: pooled data, same model/config, until its elapsed time passes `budgetS`. */
async function runCentralized(
  study: StudyConfig,
  siteDirs: string[],
  args: Args,
  budgetS: number,
): Promise<{ points: Point[]; backend: string; trainCases: number; valCases: number }> {
  const t0 = performance.now();
  const backend = await initBackend(args.backend);
  const sites = await Promise.all(
    siteDirs.map((dir) => loadSiteData(dir, { valFraction: VAL_FRACTION, seed: SPLIT_SEED })),
  );
  const val: TrainingSample[] = sites.flatMap((s) => s.val);
  // Seeded like the coordinator's round-0 model (training.seed), so both start from the same weights.
  const model = createSegmentationModel(study.model, study.training.seed);
  const points: Point[] = [];
  try {
    for (let round = 1; ; round++) {
      // The agent's per-round training config and patch draws (task-executor.ts), over every site at once.
      const training = { ...study.training, seed: study.training.seed + round };
      const samplers = sites.map((s) => s.epochSampler(training, round));
      await trainLocal(model, (epoch) => samplers.flatMap((draw) => draw(epoch)), training);
      const scores = await evaluateSegmentation(model, val);
      const seconds = (performance.now() - t0) / 1000;
      const dice = Number.isFinite(scores.dice) ? scores.dice : null;
      points.push({ round, seconds, dice });
      console.log(
        `  centralized round-equivalent ${round} (${round * study.training.epochs} epochs): ${seconds.toFixed(1)} s, val Dice ${dice === null ? 'n/a' : dice.toFixed(4)}`,
      );
      if (seconds >= budgetS) break;
    }
  } finally {
    model.dispose();
  }
  return {
    points,
    backend: `${backend.name}${backend.adapter ? ` (${backend.adapter})` : ''}`,
    trainCases: sites.reduce((n, s) => n + s.train.length, 0),
    valCases: val.length,
  };
}

/** The last point measured by `seconds` (what the run had at that moment of its own clock). */
function at(points: readonly Point[], seconds: number): Point | undefined {
  let last: Point | undefined;
  for (const p of points) if (p.seconds <= seconds) last = p;
  return last;
}

function best(points: readonly Point[]): number | null {
  const ds = points.map((p) => p.dice).filter((d): d is number => d !== null);
  return ds.length ? Math.max(...ds) : null;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-time-to-dice-'));
  let failed = true;
  try {
    const sites = 4;
    const { siteDirs } = await generateConsortium({
      outDir: path.join(home, 'sites'),
      sites,
      casesPerSite: 8,
      shape: [32, 32, 32],
      seed: 7,
    });
    const study = studyConfig(args.maxRounds, sites);
    console.log(
      `time-to-dice: ${sites} synthetic sites x 8 cases (32^3), target mean val Dice ${args.target}, cap ${args.maxRounds} rounds, backend ${args.backend}`,
    );

    const fed = await runFederation(args, study, siteDirs, home);
    const hit = fed.points.find((p) => p.dice !== null && p.dice >= args.target);
    const budgetS = hit ? hit.seconds : fed.seconds;
    console.log(
      `  federation: ${fed.outcome} after ${fed.seconds.toFixed(1)} s; centralized peer gets the same ${budgetS.toFixed(1)} s`,
    );

    const central = await runCentralized(study, siteDirs, args, budgetS);
    const cHit = central.points.find((p) => p.dice !== null && p.dice >= args.target);
    const cAtBudget = at(central.points, budgetS);
    const epochsPer = study.training.epochs;

    console.log(
      `\ntime-to-dice: federated (4 agent processes, FedAvg, ${epochsPer} local epochs/round) vs centralized (pooled ${central.trainCases} train / ${central.valCases} val cases, ${central.backend}); one run`,
    );
    printTable(
      ['round', 'seconds', 'fed Dice', 'central Dice @ same s', 'central epochs @ same s'],
      fed.points.map((p) => {
        const c = at(central.points, p.seconds);
        return [
          String(p.round),
          fmt(p.seconds),
          p.dice === null ? 'n/a' : fmt(p.dice, 4),
          c?.dice != null ? fmt(c.dice, 4) : '-',
          c ? String(c.round * epochsPer) : '0',
        ];
      }),
    );
    console.log('\ncentralized round-equivalents (36 optimizer steps each, like one federated round):');
    printTable(
      ['round-eq', 'epochs', 'seconds', 'central Dice'],
      central.points.map((p) => [
        String(p.round),
        String(p.round * epochsPer),
        fmt(p.seconds),
        p.dice === null ? 'n/a' : fmt(p.dice, 4),
      ]),
    );
    const fedBest = best(fed.points);
    const cBest = best(central.points);
    console.log(
      hit
        ? `\nfederated: Dice ${fmt(hit.dice ?? NaN, 4)} >= ${args.target} at round ${hit.round}, ${fmt(hit.seconds)} s`
        : `\nfederated: did NOT reach Dice ${args.target} in ${fed.points.length} rounds (${fed.outcome}, ${fmt(fed.seconds)} s); best Dice ${fedBest === null ? 'n/a' : fmt(fedBest, 4)}`,
    );
    console.log(
      cHit
        ? `centralized: Dice ${fmt(cHit.dice ?? NaN, 4)} >= ${args.target} after ${cHit.round * epochsPer} epochs, ${fmt(cHit.seconds)} s`
        : `centralized: did NOT reach Dice ${args.target} within the ${fmt(budgetS)} s budget; best Dice ${cBest === null ? 'n/a' : fmt(cBest, 4)}`,
    );
    const cBestIn = best(central.points.filter((p) => p.seconds <= budgetS));
    console.log(
      `centralized Dice within the federation's ${fmt(budgetS)} s: last ${cAtBudget?.dice != null ? fmt(cAtBudget.dice, 4) : 'none measured yet'}, best ${cBestIn === null ? '-' : fmt(cBestIn, 4)}`,
    );

    // seconds/rounds/epochs: to the target when reached, else what the run spent (reached: false).
    const fedLast = fed.points[fed.points.length - 1];
    const cLast = central.points[central.points.length - 1];
    console.log(
      JSON.stringify({
        bench: 'time-to-dice',
        target: args.target,
        maxRounds: args.maxRounds,
        federated: {
          seconds: hit ? hit.seconds : fed.seconds,
          rounds: hit ? hit.round : (fedLast?.round ?? 0),
          reached: hit !== undefined,
          bestDice: fedBest,
          outcome: fed.outcome,
        },
        centralized: {
          seconds: cHit ? cHit.seconds : (cLast?.seconds ?? 0),
          epochs: (cHit ? cHit.round : (cLast?.round ?? 0)) * epochsPer,
          reached: cHit !== undefined,
          reachedWithinBudget: cHit !== undefined && cHit.seconds <= budgetS,
          bestDice: cBest,
          diceAtBudget: cAtBudget?.dice ?? null,
          bestDiceWithinBudget: cBestIn,
          backend: central.backend,
        },
        budgetSeconds: budgetS,
        federatedRounds: fed.points,
        centralizedRounds: central.points.map((p) => ({ ...p, epochs: p.round * epochsPer })),
      }),
    );
    failed = false;
  } finally {
    // A failed run keeps its agent logs for the post-mortem.
    if (args.keep || failed) console.error(`kept ${home} (agent logs in ${path.join(home, 'logs')})`);
    else fs.rmSync(home, { recursive: true, force: true });
  }
}
