/**
 * `npm run soak:long-local -- --phase evaluate|train --minutes M [--proxy-idle-s S] [--sites N]`
 *
 * Issues 18 and 19: a site's local work can take many minutes (scoring a full-size volume, training a 3D model);
 * its connection must stay up all along, with production heartbeat settings, and the result must be accepted
 * once. A real federation on loopback: a coordinator with its default configuration (embedded PGlite; socket.io
 * pings every 25 s), real `fedseg-agent run` child processes, one round of a tiny 3D U-Net. Each agent's
 * compute thread is blocked on purpose for M minutes before the phase (FEDSEG_TEST_EVALUATION_DELAY_MS or
 * FEDSEG_TEST_TRAINING_DELAY_MS, the compute worker's test hooks; Atomics.wait blocks it as CPU-bound work would).
 * With --proxy-idle-s the agents connect through a CONNECT proxy (test/support/connect-proxy.ts) that cuts any
 * tunnel idle that long either way, as hospital proxies and NATs do.
 *
 * The coordinator's socket.io server is observed from this process: pings it sends, packets (pongs included)
 * each agent sends, and every connection close. Printed: per site, heartbeats during the slow phase, the longest
 * silence each way, disconnects (must be 0) and how many times the result was stored (must be 1); last, one
 * JSON line. Exit code 1 when any of those fails.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import {
  CoordinatorConfig,
  DATABASE,
  approveStudy,
  enrollSites,
  spawnAgent,
  startCoordinator,
  stopAgent,
  type OpenDatabase,
} from '@fedseg/coordinator';
import { generateConsortium } from '@fedseg/imaging';
import { AgentEvents, type StudyConfigInput } from '@fedseg/protocol';
import { startConnectProxy, type ConnectProxy } from '../../test/support/connect-proxy';

const Options = z.strictObject({
  phase: z.enum(['evaluate', 'train']),
  minutes: z.coerce
    .number()
    .positive()
    .max(24 * 60),
  /** 0: agents connect directly. */
  proxyIdleS: z.coerce.number().int().min(0).default(0),
  sites: z.coerce.number().int().min(1).max(8).default(2),
});
type Options = z.infer<typeof Options>;

function parseArgs(argv: readonly string[]): Options {
  const raw: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    raw[m[1]!.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = m[2] ?? argv[++i] ?? '';
  }
  const parsed = Options.safeParse(raw);
  if (!parsed.success)
    throw new Error(
      `${z.prettifyError(parsed.error)}\nusage: npm run soak:long-local -- --phase evaluate|train --minutes M [--proxy-idle-s S] [--sites N]`,
    );
  return parsed.data;
}

interface Wire {
  pingsOut: number[];
  packetsIn: number[];
  packetsOut: number[];
  pongsIn: number[];
  closes: Array<{ at: number; reason: string }>;
  results: number[];
}

const SocketSite = z.object({ state: z.object({ site: z.object({ name: z.string() }) }) });

/** Longest silence between consecutive instants inside [from, to], the window's edges included. */
function longestGapMs(times: readonly number[], from: number, to: number): number {
  const inside = [from, ...times.filter((t) => t > from && t < to), to];
  let gap = 0;
  for (let i = 1; i < inside.length; i++) gap = Math.max(gap, inside[i]! - inside[i - 1]!);
  return gap;
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const delayMs = Math.round(options.minutes * 60_000);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-soak-long-local-'));
  const startedAt = Date.now();
  const say = (line: string) =>
    console.log(`[${((Date.now() - startedAt) / 1000).toFixed(0).padStart(5)} s] ${line}`);

  // Observe the coordinator's own socket.io server: record the Server whose of('/agent') Nest calls.
  const servers = new Set<Server>();
  const of = Server.prototype.of;
  Server.prototype.of = function (this: Server, ...args: Parameters<typeof of>) {
    servers.add(this);
    return of.apply(this, args);
  } as typeof of;

  const coordinator = await startCoordinator(
    CoordinatorConfig.parse({
      port: 0,
      host: '127.0.0.1',
      homeDir: path.join(work, 'home'),
      logLevel: 'error',
    }),
  );
  const agents: ChildProcess[] = [];
  let passed = false;
  let proxy: ConnectProxy | undefined;
  try {
    const adminToken =
      coordinator.bootstrapAdminToken ??
      fs.readFileSync(path.join(work, 'home', 'admin.token'), 'utf8').trim();
    const prisma = coordinator.app.get<OpenDatabase>(DATABASE).prisma;
    const engine = [...servers][0]!.engine.opts;
    say(
      `coordinator ${coordinator.url}: pingInterval ${engine.pingInterval} ms, pingTimeout ${engine.pingTimeout} ms (defaults)`,
    );

    const wire = new Map<string, Wire>();
    let recording = false;
    for (const server of servers)
      server.of('/agent').on('connection', (socket: Socket) => {
        if (!recording) return; // `fedseg-agent approve` connects and leaves before the agents run
        const site = SocketSite.parse(socket.data).state.site.name;
        const w = wire.get(site) ?? {
          pingsOut: [],
          packetsIn: [],
          packetsOut: [],
          pongsIn: [],
          closes: [],
          results: [],
        };
        wire.set(site, w);
        socket.conn.on('packetCreate', (p: { type: string }) => {
          w.packetsOut.push(Date.now());
          if (p.type === 'ping') w.pingsOut.push(Date.now());
        });
        socket.conn.on('packet', (p: { type: string }) => {
          w.packetsIn.push(Date.now());
          if (p.type === 'pong') w.pongsIn.push(Date.now());
        });
        socket.conn.on('close', (reason: string) => w.closes.push({ at: Date.now(), reason }));
        socket.use((packet, next) => {
          const event = packet[0];
          if (
            (options.phase === 'evaluate' && event === AgentEvents.metricsReport) ||
            (options.phase === 'train' && event === AgentEvents.updateBegin)
          )
            w.results.push(Date.now());
          next();
        });
      });

    const names = Array.from({ length: options.sites }, (_, i) => `soak-site-${i + 1}`);
    const { siteDirs } = await generateConsortium({
      outDir: path.join(work, 'sites'),
      sites: options.sites,
      casesPerSite: 4,
      shape: [16, 16, 16],
      seed: 41,
    });
    const homeOf = (site: string) => path.join(work, 'agents', site);
    await enrollSites({ url: coordinator.url, adminToken, sites: names, homeOf });
    const deadlineMs = delayMs + 15 * 60_000;
    const study: StudyConfigInput = {
      name: `soak: ${options.minutes} min local ${options.phase}`,
      model: {
        architecture: 'unet3d',
        inChannels: 1,
        numClasses: 3,
        baseFilters: 2,
        depth: 2,
        normalization: 'instance',
      },
      training: { epochs: 1, batchSize: 2, learningRate: 1e-2, patchSize: [16, 16, 16], seed: 7 },
      rounds: 1,
      minSites: options.sites,
      // The study's own deadlines must outlast the slowed phase; the connection is what is under test.
      roundDeadlineMs: deadlineMs,
      evaluationDeadlineMs: deadlineMs,
      siteWaitMs: 5 * 60_000,
    };
    const auth = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const created = await fetch(`${coordinator.url}/studies`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify(study),
    });
    if (created.status !== 201) throw new Error(`study refused: ${await created.text()}`);
    const studyId = z.object({ id: z.uuid() }).parse(await created.json()).id;
    await approveStudy({ studyId, sites: names, homeOf });
    const started = await fetch(`${coordinator.url}/studies/${studyId}/start`, {
      method: 'POST',
      headers: auth,
      body: '{}',
    });
    if (started.status !== 200) throw new Error(`start refused: ${await started.text()}`);

    let coordinatorUrl = coordinator.url;
    let proxyEnv: NodeJS.ProcessEnv = {};
    if (options.proxyIdleS > 0) {
      const port = new URL(coordinator.url).port;
      proxy = await startConnectProxy({
        hosts: { 'coordinator.fedseg.test': '127.0.0.1' },
        idleTimeoutMs: options.proxyIdleS * 1000,
      });
      coordinatorUrl = `http://coordinator.fedseg.test:${port}`;
      proxyEnv = { HTTP_PROXY: proxy.url, http_proxy: proxy.url, NO_PROXY: '', no_proxy: '' };
      say(`agents connect through ${proxy.url}, which cuts tunnels idle for ${options.proxyIdleS} s`);
    }
    const delayVar =
      options.phase === 'evaluate' ? 'FEDSEG_TEST_EVALUATION_DELAY_MS' : 'FEDSEG_TEST_TRAINING_DELAY_MS';
    recording = true;
    names.forEach((site, i) =>
      agents.push(
        spawnAgent({
          coordinatorUrl,
          site,
          home: homeOf(site),
          dataDir: siteDirs[i]!,
          logFile: path.join(work, 'logs', `${site}.log`),
          extraArgs: ['--backend', 'cpu'],
          env: { ...proxyEnv, [delayVar]: String(delayMs) },
        }),
      ),
    );
    say(`${options.sites} agents started; local ${options.phase} blocked for ${options.minutes} min each`);

    const until = Date.now() + deadlineMs + 5 * 60_000;
    let status = '';
    for (let lastSaid = 0; Date.now() < until; await new Promise((r) => setTimeout(r, 2_000))) {
      const study = await prisma.study.findUniqueOrThrow({ where: { id: studyId } });
      status = study.status;
      if (['completed', 'failed', 'paused', 'stopped'].includes(status)) break;
      if (Date.now() - lastSaid > 60_000) {
        lastSaid = Date.now();
        const line = [...wire].map(
          ([site, w]) => `${site}: ${w.pongsIn.length} pongs, ${w.closes.length} closes`,
        );
        say(`study ${status}; ${line.join('; ')}`);
      }
    }
    say(`study ${status}`);

    const rows: Array<Record<string, string | number>> = [];
    let disconnects = 0;
    let acceptedOnceAll = status === 'completed';
    let minHeartbeats = Number.POSITIVE_INFINITY;
    let maxGapInS = 0;
    let maxGapOutS = 0;
    for (const site of names) {
      const w = wire.get(site);
      const row = await prisma.site.findUniqueOrThrow({ where: { name: site } });
      const stored =
        options.phase === 'evaluate'
          ? await prisma.metric.count({ where: { studyId, siteId: row.id, split: 'val', name: 'dice' } })
          : await prisma.siteUpdate.count({ where: { siteId: row.id, round: { studyId } } });
      const log = fs.readFileSync(path.join(work, 'logs', `${site}.log`), 'utf8');
      const lost = (log.match(/connection lost/g) ?? []).length;
      const resultAt = w?.results[0] ?? Date.now();
      const from = resultAt - delayMs;
      const heartbeats = w?.pongsIn.filter((t) => t >= from && t <= resultAt).length ?? 0;
      const gapIn = w ? longestGapMs(w.packetsIn, from, resultAt) / 1000 : Infinity;
      const gapOut = w ? longestGapMs(w.packetsOut, from, resultAt) / 1000 : Infinity;
      // The same drop seen from both ends: the coordinator's close and the agent's "connection lost".
      const closes = Math.max(w?.closes.length ?? 0, lost);
      disconnects += closes;
      acceptedOnceAll &&= stored === 1;
      minHeartbeats = Math.min(minHeartbeats, heartbeats);
      maxGapInS = Math.max(maxGapInS, gapIn);
      maxGapOutS = Math.max(maxGapOutS, gapOut);
      rows.push({
        site,
        'heartbeats (pongs) in slow phase': heartbeats,
        'pings sent': w?.pingsOut.length ?? 0,
        'longest silence agent->coord s': gapIn.toFixed(1),
        'longest silence coord->agent s': gapOut.toFixed(1),
        disconnects: closes,
        'close reasons': w?.closes.map((c) => c.reason).join(',') || '-',
        'results stored': stored,
        're-sends': (log.match(/re-sending/g) ?? []).length,
      });
    }
    console.table(rows);
    if (proxy)
      say(`proxy: ${proxy.tunnels.length} tunnels opened, ${proxy.idleCuts.length} cut for idleness`);
    const ok = disconnects === 0 && acceptedOnceAll;
    say(ok ? 'PASS' : `FAIL (logs kept in ${work})`);
    console.log(
      JSON.stringify({
        phase: options.phase,
        minutes: options.minutes,
        sites: options.sites,
        proxy_idle_s: options.proxyIdleS,
        ping_interval_ms: engine.pingInterval,
        ping_timeout_ms: engine.pingTimeout,
        study: status,
        heartbeats_min: minHeartbeats,
        longest_silence_in_s: Number(maxGapInS.toFixed(1)),
        longest_silence_out_s: Number(maxGapOutS.toFixed(1)),
        disconnects,
        accepted_once: acceptedOnceAll,
        idle_cuts: proxy?.idleCuts.length ?? 0,
        wall_min: Number(((Date.now() - startedAt) / 60_000).toFixed(1)),
      }),
    );
    passed = ok;
    return ok ? 0 : 1;
  } finally {
    await Promise.all(agents.map((a) => stopAgent(a)));
    await proxy?.close();
    await coordinator.close();
    Server.prototype.of = of;
    // Only after the coordinator closed: its embedded database lives under `work`.
    if (passed) fs.rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
