import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateConsortium } from '@fedseg/imaging';
import { StudyConfig, decodeTensors, decodeWeights } from '@fedseg/protocol';
import { z } from 'zod';
import { startCoordinator } from '../coordinator';
import { CoordinatorConfig } from '../config/coordinator-config';
import { RoundEvents, type RoundEvent } from '../rounds/round-events';
import { spawnAgent, stopAgent, REPO_ROOT } from './spawn-agent';
import { approveStudy, enrollSites } from './demo-sites';
import { demoStudyInput } from './demo-study';

/**
 * `npm run demo`: a whole federation on one machine. Synthetic hospitals (phantom volumes that differ
 * per site like scanners do), the coordinator on the embedded database, one agent process per site.
 */
const USAGE = `usage: npm run demo -- [--sites N] [--rounds N] [--backend auto|wasm|cpu|webgpu]
       [--strategy fedavg|fedavgm|fedadam|fedyogi|fedadagrad|median|trimmed-mean|krum|multi-krum]
       [--compression none|fp16|int8|top-k] [--secure-aggregation] [--no-dashboard] [--home DIR]`;

async function main(): Promise<number> {
  const { values: flags } = parseArgs({
    options: {
      sites: { type: 'string', default: '3' },
      rounds: { type: 'string', default: '5' },
      backend: { type: 'string', default: 'auto' },
      strategy: { type: 'string', default: 'fedavg' },
      compression: { type: 'string', default: 'none' },
      'secure-aggregation': { type: 'boolean', default: false },
      home: { type: 'string', default: '.fedseg/demo' },
      'timeout-s': { type: 'string', default: '900' },
      'no-dashboard': { type: 'boolean', default: false },
    },
  });
  const sites = Number(flags.sites);
  const rounds = Number(flags.rounds);
  const backend = flags.backend!;
  const home = path.resolve(REPO_ROOT, flags.home!);
  if (!Number.isInteger(sites) || sites < 1 || !Number.isInteger(rounds) || rounds < 1) {
    console.error(USAGE);
    return 2;
  }
  const started = Date.now();
  const say = (line: string) => {
    const s = Math.round((Date.now() - started) / 1000);
    console.log(
      `[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${line}`,
    );
  };

  console.log(
    `fedseg demo: ${sites} synthetic hospitals train a 3D U-Net together for ${rounds} rounds; images never leave a site.`,
  );
  fs.rmSync(home, { recursive: true, force: true });
  const { siteDirs } = await generateConsortium({
    outDir: path.join(home, 'sites'),
    sites,
    casesPerSite: 8,
    shape: [32, 32, 32],
    seed: 7,
  });
  say(
    `generated ${sites} sites x 8 phantom cases (32^3, site-specific scanners) under ${path.relative(process.cwd(), home)}/sites`,
  );

  const config = CoordinatorConfig.parse({ port: 0, host: '127.0.0.1', homeDir: home, logLevel: 'error' });
  const coordinator = await startCoordinator(config);
  const token = coordinator.bootstrapAdminToken!;
  const post = (p: string, body: unknown) => request('POST', `${coordinator.url}${p}`, token, body);
  const get = (p: string) => request('GET', `${coordinator.url}${p}`, token);
  say(
    `coordinator on ${coordinator.url}, embedded PGlite database in ${path.relative(process.cwd(), home)}/db, key fingerprint ${coordinator.fingerprint}`,
  );
  say(`first start: admin API token written to ${path.relative(process.cwd(), home)}/admin.token (mode 600)`);
  // In a terminal the dashboard stays up after the rounds until Ctrl-C; piped or with --no-dashboard the demo
  // ends with its rounds (CI, scripts).
  const keepDashboard = !flags['no-dashboard'] && process.stdout.isTTY === true;
  if (!flags['no-dashboard'])
    say(
      `dashboard: ${coordinator.url}/ (sign in with that token; it follows the rounds live${keepDashboard ? ' and stays up after them until Ctrl-C' : ''})`,
    );

  // Trust: every hospital enrolls once with a one-time token, making keys that never leave it.
  const siteNames = siteDirs.map((_, i) => `hospital-${i + 1}`);
  const agentHome = (name: string) => path.join(home, 'agents', name);
  const echo = (site: string, line: string) => say(`[${site}] ${line}`);
  await enrollSites({ url: coordinator.url, adminToken: token, sites: siteNames, homeOf: agentHome, echo });

  const secure = flags['secure-aggregation']!;
  const siteDumps = path.join(home, 'site-dumps');
  const study = demoStudyInput({
    sites,
    rounds,
    strategy: flags.strategy,
    compression: flags.compression,
    secureAggregation: secure,
  });
  const checked = StudyConfig.safeParse(study);
  if (!checked.success) {
    console.error(`${USAGE}\n\n${z.prettifyError(checked.error)}`);
    await coordinator.close();
    return 2;
  }
  const created = (await post('/studies', checked.data)) as { id: string };
  say(`study ${created.id.slice(0, 8)} created; each hospital's admin reviews its plan and approves it`);
  // Consent: nothing trains at a site until its admin approved this exact plan (by hash).
  await approveStudy({ studyId: created.id, sites: siteNames, homeOf: agentHome, echo });
  const approvals = (await get(`/studies/${created.id}/approvals`)) as {
    planHash: string;
    approvals: unknown[];
  };
  say(`${approvals.approvals.length} of ${sites} sites approved plan ${approvals.planHash.slice(0, 12)}…`);
  await post(`/studies/${created.id}/start`, {});
  say(
    `study started; launching ${sites} site agents: authenticated connections, signed tasks, encrypted updates (logs in ${path.relative(process.cwd(), home)}/logs)`,
  );

  const agents = siteDirs.map((dataDir, i) =>
    spawnAgent({
      coordinatorUrl: coordinator.url,
      site: siteNames[i]!,
      home: agentHome(siteNames[i]!),
      dataDir,
      logFile: path.join(home, 'logs', `${siteNames[i]}.log`),
      // With secure aggregation each site also keeps its unmasked delta on its own disk, so that the demo can
      // show at the end that the coordinator's unmasked sum is the plain FedAvg (nothing extra is sent).
      extraArgs: ['--backend', backend, ...(secure ? ['--dump-updates', siteDumps] : [])],
    }),
  );

  const names = new Map<string, string>();
  const siteName = async (id: string) => {
    if (!names.has(id)) {
      for (const s of (await get('/sites')) as Array<{ id: string; name: string }>) names.set(s.id, s.name);
    }
    return names.get(id) ?? id.slice(0, 8);
  };
  const events = coordinator.app.get(RoundEvents);
  const finished = new Promise<RoundEvent & { type: 'study-status' }>((resolve) => {
    events.subscribe((e) => {
      if (e.studyId !== created.id) return;
      void (async () => {
        if (e.type === 'round-started')
          say(`round ${e.round} started with ${(await Promise.all(e.siteIds.map(siteName))).join(', ')}`);
        if (e.type === 'update-received')
          say(
            `round ${e.round}: ${await siteName(e.siteId)} sent its update (local loss ${e.trainLoss.toFixed(3)}, ${e.samples} cases)`,
          );
        if (e.type === 'round-aggregated')
          say(
            flags['secure-aggregation']
              ? `round ${e.round}: masks removed; only the sum of ${e.sites} masked updates was ever readable, committed as the new global model`
              : `round ${e.round}: FedAvg of ${e.sites} updates committed as the new global model`,
          );
        if (e.type === 'round-completed')
          say(`round ${e.round} done: train loss ${fmt(e.trainLoss)}, validation Dice ${fmt(e.valDice)}`);
        if (e.type === 'round-failed') say(`round ${e.round} failed: ${e.reason}`);
        if (e.type === 'round-phase') say(`round ${e.round}: secure aggregation, ${PHASE_LINES[e.phase]}`);
        if (e.type === 'study-status' && e.status !== 'running') resolve(e);
      })();
    });
  });
  const timeout = new Promise<null>((resolve) =>
    setTimeout(() => resolve(null), Number(flags['timeout-s']) * 1000),
  );
  const outcome = await Promise.race([finished, timeout]);

  const table = (await get(`/studies/${created.id}/rounds`)) as Array<{
    index: number;
    status: string;
    updates: number;
    trainLoss: number | null;
    valDice: number | null;
  }>;
  console.log('\nround | status    | sites | train loss | val Dice (organ+lesion)');
  console.log('------+-----------+-------+------------+------------------------');
  for (const r of table) {
    console.log(
      `${String(r.index).padStart(5)} | ${r.status.padEnd(9)} | ${String(r.updates).padStart(5)} | ${fmt(r.trainLoss).padStart(10)} | ${fmt(r.valDice).padStart(8)}`,
    );
  }
  const secureChecked =
    !secure ||
    (await checkSecureSums(
      table,
      created.id,
      (round) => fetchModel(coordinator.url, token, created.id, round),
      siteDumps,
    ).then(
      () => true,
      (err: unknown) => (console.error((err as Error).message), false),
    ));
  // The final global model, for comparing runs (e.g. with and without --secure-aggregation, same seed).
  const finalRound = table.filter((r) => r.status === 'completed').at(-1)?.index;
  let finalModel = '';
  if (finalRound !== undefined) {
    const res = await fetch(`${coordinator.url}/studies/${created.id}/model?round=${finalRound}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (res.ok) {
      finalModel = path.join(home, 'final-model.fstn');
      fs.writeFileSync(finalModel, new Uint8Array(await res.arrayBuffer()));
    }
  }
  await Promise.all(agents.map((a) => stopAgent(a)));
  if (keepDashboard) {
    console.log(
      `\nthe dashboard keeps serving at ${coordinator.url}/ — press Ctrl-C to stop the coordinator`,
    );
    await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  }
  await coordinator.close();
  const seconds = Math.round((Date.now() - started) / 1000);
  if (!secureChecked) return 1;
  if (!outcome || outcome.status !== 'completed') {
    console.error(
      `\ndemo did not complete: ${outcome ? `study ${outcome.status}: ${outcome.reason}` : 'timed out'} (agent logs in ${home}/logs)`,
    );
    return 1;
  }
  console.log(
    `\n${table.length} rounds committed in ${seconds} s. Database and checkpoints: ${path.relative(process.cwd(), home)}${finalModel ? `; final model: ${path.relative(process.cwd(), finalModel)}` : ''}`,
  );
  return 0;
}

async function fetchModel(url: string, token: string, studyId: string, round: number): Promise<Float32Array> {
  const res = await fetch(`${url}/studies/${studyId}/model?round=${round}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!res.ok) throw new Error(`GET model of round ${round} -> ${res.status}`);
  return decodeWeights(new Uint8Array(await res.arrayBuffer())).data;
}

/**
 * Secure aggregation, checked: each committed round must equal the previous model plus the sample-weighted
 * mean of the deltas the sites computed (read from each site's own disk), up to the fixed point (2^-33 per
 * site) and float32 rounding of the weights.
 */
async function checkSecureSums(
  table: Array<{ index: number; status: string }>,
  studyId: string,
  model: (round: number) => Promise<Float32Array>,
  dumps: string,
): Promise<void> {
  for (const round of table.filter((r) => r.status === 'completed')) {
    const prefix = `${studyId}-round-${round.index}-`;
    const sent = fs
      .readdirSync(dumps)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.plain.fstn'))
      .map((f) => {
        const meta = JSON.parse(
          fs.readFileSync(path.join(dumps, f.replace(/\.plain\.fstn$/, '.json')), 'utf8'),
        ) as { samples: number };
        const [tensor] = decodeTensors(new Uint8Array(fs.readFileSync(path.join(dumps, f))));
        return { samples: meta.samples, delta: tensor!.data as Float32Array };
      });
    const [before, after] = [await model(round.index - 1), await model(round.index)];
    const total = sent.reduce((n, s) => n + s.samples, 0);
    let worst = 0;
    for (let i = 0; i < before.length; i++) {
      let expected = before[i]!;
      for (const s of sent) expected += (s.samples / total) * s.delta[i]!;
      worst = Math.max(worst, Math.abs(after[i]! - expected));
    }
    console.log(
      `secure aggregation check, round ${round.index}: committed model = previous + FedAvg of the ${sent.length} sites' own unmasked deltas, max |difference| ${worst.toExponential(2)} (${worst < 1e-6 ? 'ok' : 'TOO LARGE'})`,
    );
    if (!(worst < 1e-6)) throw new Error(`secure aggregation check failed in round ${round.index}`);
  }
}

const PHASE_LINES = {
  sharing: 'every site advertised fresh keys; now they exchange encrypted key shares',
  training: 'shares delivered; sites train and mask their updates',
  unmasking: 'masked updates in; survivors send the shares that remove the masks',
  aggregating: 'unmask shares in',
} as const;

function fmt(v: number | null): string {
  return v === null ? 'n/a' : v.toFixed(4);
}

async function request(method: string, url: string, token: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json: unknown = await res.json();
  if (!res.ok) throw new Error(`${method} ${url} -> ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
