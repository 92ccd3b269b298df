/**
 * `npm run bench -- round [--sites 4,16,64,128] [--rounds 3]`: what a round costs the coordinator itself.
 *
 * A real coordinator (embedded PGlite, real socket.io) runs a study of a tiny 3D U-Net with N simulated
 * sites: socket.io clients in this process that answer each training task at once with a small random
 * delta (no training) and each evaluation with fixed metrics. Round overhead = round time (round-started to
 * round-completed, both announced after their database writes) minus the slowest site's own handling
 * time. Everything shares this process's event loop, so the figures are an upper bound on the
 * coordinator's overhead. Bytes on the wire per site and round: the task blobs down, the update blob up.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { encodeUpdate } from '@fedseg/aggregation';
import { CoordinatorConfig, RoundEvents, startCoordinator, type RoundEvent } from '@fedseg/coordinator';
import { AgentEvents, Task, decodeWeights, encodeTensors, type StudyConfigInput } from '@fedseg/protocol';
import crypto from 'node:crypto';
import { median, option, printTable } from './bench-util';

interface SiteStats {
  downBytes: number;
  upBytes: number;
  handlingMs: Map<number, number>;
}

async function simulatedSite(url: string, name: string, stats: SiteStats): Promise<Socket> {
  const socket = io(`${url}/agent`, { transports: ['websocket'], reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  socket.on(AgentEvents.task, (payload: unknown, blob: Uint8Array) => {
    const started = performance.now();
    const task = Task.parse(payload);
    stats.downBytes += blob.byteLength;
    if (task.kind === 'train') {
      const global = decodeWeights(new Uint8Array(blob));
      const delta = new Float32Array(global.data.length);
      for (let i = 0; i < delta.length; i++) delta[i] = (Math.random() - 0.5) * 1e-3;
      const update = encodeTensors(
        encodeUpdate(task.compression, delta, null, { manifest: global.manifest }).tensors,
      );
      stats.upBytes += update.byteLength;
      const meta = {
        taskId: task.taskId,
        studyId: task.studyId,
        round: task.round,
        samples: 4,
        sha256: crypto.createHash('sha256').update(update).digest('hex'),
        trainLoss: 1,
        steps: 1,
      };
      stats.handlingMs.set(task.round, (stats.handlingMs.get(task.round) ?? 0) + performance.now() - started);
      socket.emit(
        AgentEvents.updateSubmit,
        meta,
        Buffer.from(update.buffer, update.byteOffset, update.byteLength),
        () => undefined,
      );
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
  const reply: unknown = await socket.timeout(10_000).emitWithAck(AgentEvents.hello, {
    siteName: name,
    agentVersion: 'bench',
    backend: { name: 'none', skipped: [] },
    maxConcurrentStudies: 1,
    dataSummary: { trainCases: 4, valCases: 1 },
  });
  if (!(reply as { ok?: boolean }).ok) throw new Error(`hello refused: ${JSON.stringify(reply)}`);
  return socket;
}

export async function run(args: string[]): Promise<void> {
  const siteCounts = (option(args, 'sites') ?? '4,16,64,128').split(',').map(Number);
  const rounds = Number(option(args, 'rounds') ?? 3);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-bench-round-'));
  const coordinator = await startCoordinator(
    CoordinatorConfig.parse({ port: 0, host: '127.0.0.1', homeDir: home, logLevel: 'silent' }),
  );
  const events = coordinator.app.get(RoundEvents);
  console.log(
    `round: tiny 3D U-Net (base 2, depth 2), ${rounds} rounds per N, simulated sites answering at once; embedded PGlite`,
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
      };
      const created = await fetch(`${coordinator.url}/studies`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(study),
      });
      const studyId = ((await created.json()) as { id: string }).id;
      const stats = Array.from({ length: n }, (): SiteStats => ({
        downBytes: 0,
        upBytes: 0,
        handlingMs: new Map(),
      }));
      const sockets = await Promise.all(
        stats.map((s, i) => simulatedSite(coordinator.url, `bench-${n}-${i}`, s)),
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
      await fetch(`${coordinator.url}/studies/${studyId}/start`, { method: 'POST' });
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
  console.log(JSON.stringify({ bench: 'round', rounds, results }));
}
