/**
 * `npm run bench -- round [--sites 4,16,64,128] [--rounds 3] [--secure-aggregation] [--postgres [adminUrl]]`: what a
 * round costs the
 * coordinator itself. --postgres runs it on a throwaway database of a PostgreSQL server (default
 * postgresql://postgres@127.0.0.1:5432/postgres) instead of the embedded PGlite. With --secure-aggregation the sites run the masking protocol too (SecAggSite, threshold a
 * majority): their masking time counts as their handling time, the coordinator's unmasking as overhead.
 *
 * A real coordinator (embedded PGlite, real socket.io) runs a study of a tiny 3D U-Net with N simulated
 * sites: enrolled sites in this process, on authenticated sockets, that approve the plan, check each task's
 * signature and answer each training task at once with a small random delta (no training), sealed and
 * signed like a real agent's, and each evaluation with fixed metrics. Round overhead = round time (round-started to
 * round-completed, both announced after their database writes) minus the slowest site's own handling
 * time. Everything shares this process's event loop, so the figures are an upper bound on the
 * coordinator's overhead. Bytes on the wire per site and round: the task blobs down, the update blob up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import { SecAggSite, encodeUpdate } from '@fedseg/aggregation';
import {
  CoordinatorConfig,
  RoundEvents,
  createThrowawayDatabase,
  connectTestSite,
  enrollTestSite,
  fetchOfferedModel,
  helloFor,
  sendWithAck,
  startCoordinator,
  type RoundEvent,
  type TestSite,
} from '@fedseg/coordinator';
import {
  AgentEvents,
  MASKED_UPDATE_TENSOR,
  SECURE_AGGREGATION_CODEC,
  SignatureDomains,
  SignedSecAggRequest,
  SignedTask,
  decodeWeights,
  encodeTensors,
  sealUpdate,
  signPlanApproval,
  verifyMessage,
  type StudyConfigInput,
} from '@fedseg/protocol';
import { median, option, printTable } from './bench-util';

interface SiteStats {
  downBytes: number;
  upBytes: number;
  handlingMs: Map<number, number>;
}

async function simulatedSite(url: string, site: TestSite, stats: SiteStats): Promise<Socket> {
  const socket = await connectTestSite(url, site);
  // Secure aggregation: the site's secrets of the current round, answered like a real agent (SecAggSite).
  let secure: SecAggSite | undefined;
  socket.on(AgentEvents.secAggRequest, (payload: unknown) => {
    const started = performance.now();
    const { request, signature } = SignedSecAggRequest.parse(payload);
    if (!verifyMessage(SignatureDomains.secAggRequest, request, signature, site.coordinator.signingPublicKey))
      throw new Error('secure-aggregation request signature does not verify');
    if (request.phase === 'advertise')
      secure = new SecAggSite({
        studyId: request.studyId,
        round: request.round,
        siteId: site.siteId,
        threshold: request.threshold,
        signingSecretKey: site.keys.signingSecretKey,
      });
    const reply =
      request.phase === 'advertise'
        ? secure!.advertise()
        : request.phase === 'share'
          ? secure!.share(request)
          : secure!.unmask(request);
    stats.upBytes += JSON.stringify(reply).length;
    stats.handlingMs.set(
      request.round,
      (stats.handlingMs.get(request.round) ?? 0) + performance.now() - started,
    );
    socket.emit(AgentEvents.secAggReply, reply, () => undefined);
  });
  socket.on(AgentEvents.task, async (payload: unknown, offer: unknown) => {
    const started = performance.now();
    const { task, signature } = SignedTask.parse(payload);
    if (!verifyMessage(SignatureDomains.task, task, signature, site.coordinator.signingPublicKey))
      throw new Error('task signature does not verify');
    if (task.kind === 'train') {
      // An evaluation needs no weights here; a training task pulls the model like an agent without a cache.
      const blob = await fetchOfferedModel(socket, offer);
      stats.downBytes += blob.byteLength;
      const global = decodeWeights(blob);
      const delta = new Float32Array(global.data.length);
      for (let i = 0; i < delta.length; i++) delta[i] = (Math.random() - 0.5) * 1e-3;
      const masking = task.secureAggregation;
      const ring = masking ? secure!.mask(masking, delta, 4) : null;
      const update = ring
        ? encodeTensors([{ name: MASKED_UPDATE_TENSOR, shape: [ring.length], dtype: 'uint32', data: ring }])
        : encodeTensors(
            encodeUpdate(task.plan.compression, delta, null, { manifest: global.manifest }).tensors,
          );
      const sealed = sealUpdate(
        {
          taskId: task.taskId,
          studyId: task.studyId,
          round: task.round,
          siteId: site.siteId,
          samples: 4,
          trainLoss: 1,
          steps: 1,
          codec: ring ? SECURE_AGGREGATION_CODEC : task.plan.compression.codec,
        },
        update,
        {
          coordinatorAgreementPublicKey: site.coordinator.agreementPublicKey,
          siteSigningSecretKey: site.keys.signingSecretKey,
        },
      );
      stats.upBytes += sealed.chunks.reduce((n, c) => n + c.byteLength, 0);
      stats.handlingMs.set(task.round, (stats.handlingMs.get(task.round) ?? 0) + performance.now() - started);
      socket.emit(AgentEvents.updateBegin, sealed.begin, () => {
        sealed.chunks.forEach((chunk, index) =>
          socket.emit(
            AgentEvents.updateChunk,
            { nonce: sealed.begin.header.nonce, index },
            Buffer.from(chunk),
            () => undefined,
          ),
        );
      });
    } else {
      socket.emit(
        AgentEvents.metricsReport,
        {
          taskId: task.taskId,
          studyId: task.studyId,
          round: task.round,
          split: 'val',
          samples: 1,
          metrics: { dice: 0.5 },
        },
        () => undefined,
      );
    }
  });
  const reply = await sendWithAck(socket, AgentEvents.hello, { ...helloFor(site), maxConcurrentStudies: 1 });
  if (!reply.ok) throw new Error(`hello refused: ${JSON.stringify(reply)}`);
  return socket;
}

export async function run(args: string[]): Promise<void> {
  const siteCounts = (option(args, 'sites') ?? '4,16,64,128').split(',').map(Number);
  const rounds = Number(option(args, 'rounds') ?? 3);
  const secureAggregation = args.includes('--secure-aggregation');
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
      const stats = Array.from({ length: n }, (): SiteStats => ({
        downBytes: 0,
        upBytes: 0,
        handlingMs: new Map(),
      }));
      const sites = await Promise.all(
        stats.map((_, i) => enrollTestSite(coordinator.url, token, `bench-${n}-${i}`)),
      );
      const sockets = await Promise.all(stats.map((s, i) => simulatedSite(coordinator.url, sites[i]!, s)));
      const plan = (await sendWithAck(sockets[0]!, AgentEvents.planGet, { studyId })) as unknown as {
        planHash: string;
      };
      await Promise.all(
        sockets.map((socket, i) =>
          sendWithAck(
            socket,
            AgentEvents.planApprove,
            signPlanApproval(
              {
                studyId,
                siteId: sites[i]!.siteId,
                planHash: plan.planHash,
                approvedAt: new Date().toISOString(),
              },
              sites[i]!.keys.signingSecretKey,
            ),
          ),
        ),
      );
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
      for (const s of sockets) s.close();
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
  console.log(
    JSON.stringify({
      bench: 'round',
      rounds,
      secureAggregation,
      database: postgres ? 'postgresql' : 'pglite',
      results,
    }),
  );
}
