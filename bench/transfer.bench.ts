/**
 * `npm run bench -- transfer [--params 50000000] [--chunk-bytes N]`: one round of a big model through the real
 * transfer paths, and what it costs each process in time and memory.
 *
 * Three processes on loopback: a real coordinator (embedded PGlite; its /agent gateway serves the global model
 * and receives the update), a real AgentClient (the agent's socket side: model download, disk cache, sealed
 * upload) whose compute is replaced by an instant stand-in (a random delta, codec none, so the update is as
 * big as the model), and this process, which drives the study and reads each child's memory from /proc. The
 * model is a 3D U-Net of depth 5 whose base filters give the requested parameter count (reported exactly).
 *
 * Phases, each starting when the agent says so: dispatch (study started -> task in), download (-> weights in
 * hand), update (the stand-in makes it), upload (sealed chunks -> the coordinator's verdict), aggregate (-> the
 * evaluation task in), eval download (-> weights in hand), metrics (-> study completed). Code that sends the
 * model inside the task message has no download phases: dispatch and aggregate then include them. Per phase and process: wall time and peak RSS (VmHWM, reset at each phase
 * start through /proc/<pid>/clear_refs), against the process's idle RSS (connected, study created, global model
 * built, nothing sent, garbage collected). Last line: one JSON object.
 */
import { fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoordinatorConfig, approveStudy, enrollSites, startCoordinator } from '@fedseg/coordinator';
import {
  allocateTensors,
  type EvaluateTask,
  type MetricsReport,
  type StudyConfigInput,
  type TrainTask,
} from '@fedseg/protocol';
import { AgentClient } from '../apps/site-agent/src/agent-client';
import type { Compute } from '../apps/site-agent/src/compute/compute-thread';
import { AgentHome } from '../apps/site-agent/src/identity-store';
import type { TrainResult } from '../apps/site-agent/src/task-result';
import { GlobalModelService } from '../apps/coordinator/src/rounds/global-model.service';
import { StudiesRepository } from '../apps/coordinator/src/studies/studies.repository';
import { fmt, option, printTable } from './bench-util';

const MB = 1024 * 1024;
/** Parameters of a depth-5 3D U-Net with base filters 32 (measured); the count grows as the square of them. */
const PARAMS_AT_32 = 22_581_283;

type ChildMessage =
  | { type: 'ready'; url: string; adminToken: string }
  | { type: 'prewarmed'; sha256: string; bytes: number; params: number }
  | { type: 'connected' }
  | { type: 'phase'; name: string }
  | { type: 'failed'; message: string };

function send(message: ChildMessage): void {
  process.send?.(message);
}

function procStatus(pid: number): { rssMb: number; hwmMb: number } {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** Resets the peak RSS the kernel reports (VmHWM) to the current RSS (Linux >= 4.0, proc(5) clear_refs). */
function resetPeak(pid: number): void {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

async function coordinatorRole(args: string[]): Promise<void> {
  const home = option(args, 'home')!;
  const coordinator = await startCoordinator(
    CoordinatorConfig.parse({ port: 0, host: '127.0.0.1', homeDir: home, logLevel: 'warn' }),
  );
  process.on('message', (raw: unknown) => {
    const m = raw as { type: string; studyId?: string };
    if (m.type === 'prewarm' && m.studyId)
      // Builds round 0's model now, as the round would, so its cost is not counted as the transfer's.
      void (async () => {
        const study = await coordinator.app.get(StudiesRepository).get(m.studyId!);
        const model = await coordinator.app.get(GlobalModelService).latest(study);
        // Building it leaves garbage (the initial weights before encoding): collected, so the idle RSS is
        // what the process holds, not what it has yet to free.
        (globalThis as { gc?: () => void }).gc?.();
        send({
          type: 'prewarmed',
          sha256: model.sha256,
          bytes: model.blob.byteLength,
          params: model.weights.data.length,
        });
      })().catch((err: Error) => send({ type: 'failed', message: err.message }));
    if (m.type === 'stop') void coordinator.close().then(() => process.exit(0));
  });
  send({ type: 'ready', url: coordinator.url, adminToken: coordinator.bootstrapAdminToken! });
}

/** The agent's compute, replaced: an update (codec none) as big as the model at once, fixed metrics. */
function standInCompute(values: number): Compute {
  return {
    async train(task: TrainTask): Promise<TrainResult> {
      send({ type: 'phase', name: 'update (stand-in)' });
      // Made in place in its blob, as the compute thread makes a codec-none update (task-executor.ts) and
      // hands it over (moved, not copied): the stand-in holds what a real compute would hand the upload, no
      // temporary of its own.
      const { blob, tensors } = allocateTensors([{ name: 'update.f32', shape: [values], dtype: 'float32' }]);
      const delta = tensors[0]!.data as Float32Array;
      for (let i = 0; i < delta.length; i += 1024) delta[i] = 1e-3;
      (globalThis as { gc?: () => void }).gc?.();
      send({ type: 'phase', name: 'upload' });
      return {
        codec: 'none',
        blob,
        meta: {
          taskId: task.taskId,
          studyId: task.studyId,
          round: task.round,
          samples: 1,
          sha256: crypto.createHash('sha256').update(blob).digest('hex'),
          trainLoss: 0.5,
          steps: 1,
        },
      };
    },
    async evaluate(task: EvaluateTask): Promise<MetricsReport> {
      send({ type: 'phase', name: 'metrics' });
      return {
        taskId: task.taskId,
        studyId: task.studyId,
        round: task.round,
        split: 'val',
        samples: 1,
        metrics: { dice: 0.5 },
      };
    },
    fingerprint: () => Promise.reject(new Error('no data here')),
  };
}

async function agentRole(args: string[]): Promise<void> {
  const home = new AgentHome(option(args, 'home')!);
  const chunkBytes = option(args, 'chunk-bytes');
  let downloads = 0;
  const watch = (line: string) => {
    if (/connected to .* \(authenticated\)/.test(line)) {
      (globalThis as { gc?: () => void }).gc?.(); // idle RSS: what it holds, not what it has yet to free
      send({ type: 'connected' });
    }
    if (/downloading global model/.test(line))
      send({ type: 'phase', name: downloads++ === 0 ? 'download' : 'eval download' });
    if (/^update for .* accepted$/.test(line)) send({ type: 'phase', name: 'aggregate' });
  };
  const client = new AgentClient(
    {
      coordinator: option(args, 'url')!,
      identity: home.loadIdentity(),
      home,
      backend: { name: 'cpu', skipped: [] },
      maxConcurrentStudies: 1,
      dataSummary: { trainCases: 1, valCases: 1 },
      agentVersion: 'bench',
      ...(chunkBytes ? { chunkBytes: Number(chunkBytes) } : {}),
    },
    standInCompute(Number(option(args, 'values'))),
    {
      info: (line) => watch(line),
      warn: (line) => console.warn(`agent: ${line}`),
      error: (line) => console.error(`agent: ${line}`),
      progress: () => undefined,
    },
  );
  process.on('message', (raw: unknown) => {
    if ((raw as { type: string }).type === 'stop') void client.close().then(() => process.exit(0));
  });
  client.start();
}

function child(role: string, args: string[]): ChildProcess {
  return fork(
    path.join(__dirname, '..', 'scripts', 'run-ts.js'),
    ['scripts/bench.ts', 'transfer', '--role', role, ...args],
    {
      cwd: path.join(__dirname, '..'),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // gc() for the idle RSS (both) and after the agent's stand-in compute.
      execArgv: ['--expose-gc'],
    },
  );
}

function next(proc: ChildProcess, type: ChildMessage['type']): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const on = (m: ChildMessage) => {
      if (m.type === 'failed') reject(new Error(m.message));
      if (m.type !== type) return;
      proc.off('message', on);
      resolve(m);
    };
    proc.on('message', on);
    proc.once('exit', (code) => reject(new Error(`${type}: the child exited with ${code}`)));
  });
}

export async function run(args: string[]): Promise<void> {
  const role = option(args, 'role');
  if (role === 'coordinator') return coordinatorRole(args);
  if (role === 'agent') return agentRole(args);

  const params = Number(option(args, 'params') ?? 50_000_000);
  const chunkBytes = option(args, 'chunk-bytes');
  const baseFilters = Math.max(1, Math.round(32 * Math.sqrt(params / PARAMS_AT_32)));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-bench-transfer-'));
  const homeOf = (site: string) => path.join(work, 'agents', site);
  const coordinator = child('coordinator', ['--home', path.join(work, 'coordinator')]);
  let agent: ChildProcess | undefined;
  try {
    const { url, adminToken } = (await next(coordinator, 'ready')) as Extract<
      ChildMessage,
      { type: 'ready' }
    >;
    const auth = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    await enrollSites({ url, adminToken, sites: ['bench-site'], homeOf });
    const study: StudyConfigInput = {
      name: `bench transfer ${params}`,
      model: { architecture: 'unet3d', numClasses: 3, baseFilters, depth: 5 },
      training: { epochs: 1, patchSize: [32, 32, 32] },
      rounds: 1,
      minSites: 1,
      roundDeadlineMs: 1_800_000,
    };
    const created = await fetch(`${url}/studies`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify(study),
    });
    if (created.status !== 201) throw new Error(`study refused: ${await created.text()}`);
    const studyId = ((await created.json()) as { id: string }).id;
    await approveStudy({ studyId, sites: ['bench-site'], homeOf });
    coordinator.send({ type: 'prewarm', studyId });
    const model = (await next(coordinator, 'prewarmed')) as Extract<ChildMessage, { type: 'prewarmed' }>;
    const modelMb = model.bytes / MB;
    console.log(
      `transfer: 3D U-Net base ${baseFilters} depth 5, ${model.params} parameters, global model ${fmt(modelMb)} MB; ` +
        `chunks ${chunkBytes ?? 'default'}; coordinator (PGlite) and agent as separate processes on loopback`,
    );

    agent = child('agent', [
      '--values',
      String(model.params),
      '--home',
      homeOf('bench-site'),
      '--url',
      url,
      ...(chunkBytes ? ['--chunk-bytes', chunkBytes] : []),
    ]);
    await next(agent, 'connected');
    await new Promise((r) => setTimeout(r, 2_000));
    const procs = { coordinator: coordinator.pid!, agent: agent.pid! };
    const idle = { coordinator: procStatus(procs.coordinator).rssMb, agent: procStatus(procs.agent).rssMb };

    interface Phase {
      name: string;
      ms: number;
      peak: Record<keyof typeof procs, number>;
      /** RSS when the phase began: the peak minus it is what the phase itself added. */
      start: Record<keyof typeof procs, number>;
    }
    const phases: Phase[] = [];
    let current = { name: 'dispatch', at: performance.now(), start: { ...idle } };
    const close = (nextName: string) => {
      const now = { coordinator: procStatus(procs.coordinator), agent: procStatus(procs.agent) };
      const peak = { coordinator: now.coordinator.hwmMb, agent: now.agent.hwmMb };
      phases.push({ name: current.name, ms: performance.now() - current.at, peak, start: current.start });
      resetPeak(procs.coordinator);
      resetPeak(procs.agent);
      const start = { coordinator: now.coordinator.rssMb, agent: now.agent.rssMb };
      current = { name: nextName, at: performance.now(), start };
    };
    agent.on('message', (m: ChildMessage) => {
      if (m.type === 'phase') close(m.name);
    });
    resetPeak(procs.coordinator);
    resetPeak(procs.agent);
    const started = performance.now();
    const start = await fetch(`${url}/studies/${studyId}/start`, { method: 'POST', headers: auth });
    if (start.status !== 200) throw new Error(`start refused: ${await start.text()}`);
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const s = (await (await fetch(`${url}/studies/${studyId}`, { headers: auth })).json()) as {
        status: string;
        statusReason?: string;
      };
      if (s.status === 'completed') break;
      if (s.status !== 'running') throw new Error(`study ${s.status}: ${s.statusReason}`);
    }
    close('end');
    const totalMs = performance.now() - started;

    const rows = phases.map((p) => [
      p.name,
      fmt(p.ms / 1000, 2),
      fmt(p.peak.coordinator),
      fmt(p.peak.coordinator - idle.coordinator),
      fmt(p.peak.coordinator - p.start.coordinator),
      fmt(p.peak.agent),
      fmt(p.peak.agent - idle.agent),
      fmt(p.peak.agent - p.start.agent),
    ]);
    console.log(`idle RSS: coordinator ${fmt(idle.coordinator)} MB, agent ${fmt(idle.agent)} MB`);
    printTable(
      ['phase', 's', 'coord peak MB', 'above idle', 'in phase', 'agent peak MB', 'above idle', 'in phase'],
      rows,
    );
    const peakAbove = (who: keyof typeof procs) => Math.max(...phases.map((p) => p.peak[who] - idle[who]));
    console.log(
      `round ${fmt(totalMs / 1000, 2)} s; peak above idle: coordinator ${fmt(peakAbove('coordinator'))} MB ` +
        `(${fmt(peakAbove('coordinator') / modelMb, 2)}x the model), agent ${fmt(peakAbove('agent'))} MB ` +
        `(${fmt(peakAbove('agent') / modelMb, 2)}x)`,
    );
    console.log(
      JSON.stringify({
        bench: 'transfer',
        params: model.params,
        model_mb: modelMb,
        round_s: totalMs / 1000,
        idle_mb: idle,
        phases: phases.map((p) => ({ name: p.name, s: p.ms / 1000, peak_mb: p.peak, start_mb: p.start })),
        peak_above_idle_x_model: {
          coordinator: peakAbove('coordinator') / modelMb,
          agent: peakAbove('agent') / modelMb,
        },
      }),
    );
  } finally {
    for (const proc of [agent, coordinator]) {
      if (!proc || proc.exitCode !== null) continue;
      proc.send({ type: 'stop' });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          proc.kill('SIGKILL');
          resolve();
        }, 10_000);
        proc.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    fs.rmSync(work, { recursive: true, force: true });
  }
}
