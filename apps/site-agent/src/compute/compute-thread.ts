import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { BackendInfo, EvaluateTask, MetricsReport, SiteFingerprint, TrainTask } from '@fedseg/protocol';
import type { AgentLog } from '../console-log';
import { TaskRefusedError, type MaskUpdate, type TrainResult } from '../task-result';
import {
  ComputeReply,
  movable,
  type ComputeInit,
  type ComputeRequest,
  type TrainProgress,
} from './compute-messages';

export type { TrainProgress };

/** Where sliding-window evaluation stands: case `caseIndex` of `cases`, `done` of `total` window batches. */
export interface EvaluateProgress {
  caseIndex: number;
  cases: number;
  done: number;
  total: number;
}

/**
 * What the socket side (AgentClient) asks of local compute. `weights` (the global model blob) is handed over:
 * the caller must not use it after the call (ComputeThread moves it to its thread rather than copying it).
 */
export interface Compute {
  train(
    task: TrainTask,
    weights: Uint8Array,
    onProgress: (p: TrainProgress) => void,
    mask?: MaskUpdate,
  ): Promise<TrainResult>;
  evaluate(
    task: EvaluateTask,
    weights: Uint8Array,
    onProgress?: (p: EvaluateProgress) => void,
  ): Promise<MetricsReport>;
  /** This site's data fingerprint (issue 18), aggregate statistics of its training cases only. */
  fingerprint(memoryMb?: number): Promise<SiteFingerprint>;
}

export interface ComputeReady {
  backend: BackendInfo;
  kernels: string;
  trainCases: number;
  valCases: number;
}

interface Pending {
  resolve(reply: ComputeReply): void;
  reject(err: Error): void;
  onProgress?(reply: ComputeReply): void;
  mask?: MaskUpdate;
}

/** One worker and its state: events from a worker that was replaced are ignored. */
interface WorkerSlot {
  worker: Worker;
  /** Settles when the worker loaded the site's data (or could not). */
  ready: Promise<ComputeReady>;
  resolveReady(r: ComputeReady): void;
  rejectReady(err: Error): void;
  started: boolean;
  dead: boolean;
}

/**
 * Runs compute-worker.ts in a worker thread (issue 18: a 6-minute evaluation on the socket's thread stopped
 * socket.io's heartbeat and the coordinator dropped the site). The worker runs the same TypeScript the agent
 * runs: from a checkout through swc's require hook (scripts/ts-bin.js), compiled JavaScript as it is.
 *
 * When the worker dies (an uncaught error, out of memory, process.exit in a native addon's path), every call in
 * flight rejects with the reason, which AgentClient reports to the coordinator as a declined task, so the round
 * does not wait for this site; a log line says so, and a fresh worker is started at once and loads the data
 * again, so the next task runs. A worker that dies while loading is not restarted in a loop: the next call tries
 * once more.
 */
export class ComputeThread implements Compute {
  private slot!: WorkerSlot;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed?: Error;
  /** Workers started after the first (the test knob in compute-worker.ts acts on the first only). */
  private restarts = 0;

  private constructor(
    private readonly options: ComputeInit,
    private readonly log: AgentLog,
  ) {
    // oneDNN's OpenMP threads spin while idle unless OMP_WAIT_POLICY says otherwise, and libgomp reads the
    // process's real environment when the addon loads. @fedseg/models sets it to passive through process.env, but
    // a worker's process.env is a copy that never reaches getenv(): measured here, 16^3 training steps ran 10-20x
    // slower in the worker until the socket thread set it before starting the worker.
    process.env.OMP_WAIT_POLICY ??= 'passive';
  }

  /** Starts the thread, which picks the backend and loads (and keeps) the site's data. */
  static async start(options: ComputeInit, log: AgentLog): Promise<{ thread: ComputeThread } & ComputeReady> {
    const thread = new ComputeThread(options, log);
    const ready = await thread.spawn().ready;
    return { thread, ...ready };
  }

  /** How many times a dead worker was replaced. */
  get restartCount(): number {
    return this.restarts;
  }

  private spawn(): WorkerSlot {
    const entry = path.join(__dirname, `compute-worker${path.extname(__filename)}`);
    // A worker does not inherit the parent's require hooks: register swc first when running from source.
    const bootstrap = `
      const { workerData } = require('node:worker_threads');
      if (workerData.entry.endsWith('.ts')) require('@swc-node/register');
      require(workerData.entry);`;
    // env: the default, spelled out so the worker sees this module's process.env (under jest, the test's copy).
    const worker = new Worker(bootstrap, {
      eval: true,
      env: process.env,
      workerData: { entry, restarts: this.restarts },
    });
    let resolveReady!: (r: ComputeReady) => void;
    let rejectReady!: (err: Error) => void;
    const ready = new Promise<ComputeReady>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    // Nobody may be waiting on a restarted worker's readiness yet; its failure is logged where it happens.
    ready.catch(() => undefined);
    const slot: WorkerSlot = { worker, ready, resolveReady, rejectReady, started: false, dead: false };
    this.slot = slot;
    worker.on('message', (raw: unknown) => this.onMessage(slot, raw));
    worker.on('error', (err) => this.died(slot, `${err.name}: ${err.message}`));
    worker.on('exit', (code) => this.died(slot, `exit code ${code}`));
    worker.postMessage({ type: 'init', options: this.options } satisfies ComputeRequest);
    return slot;
  }

  train(
    task: TrainTask,
    weights: Uint8Array,
    onProgress: (p: TrainProgress) => void,
    mask?: MaskUpdate,
  ): Promise<TrainResult> {
    return this.call(
      (id) => ({ type: 'train', id, task, weights, masked: mask !== undefined }),
      (reply) => {
        if (reply.type === 'train-progress') onProgress(reply.progress);
      },
      mask,
      movable(weights),
    ).then((reply) => {
      if (reply.type !== 'trained') throw new Error(`unexpected compute reply ${reply.type}`);
      return { meta: reply.meta, blob: reply.blob, codec: reply.codec };
    });
  }

  evaluate(
    task: EvaluateTask,
    weights: Uint8Array,
    onProgress?: (p: EvaluateProgress) => void,
  ): Promise<MetricsReport> {
    return this.call(
      (id) => ({ type: 'evaluate', id, task, weights }),
      (reply) => {
        if (reply.type === 'evaluate-progress') onProgress?.(reply);
      },
      undefined,
      movable(weights),
    ).then((reply) => {
      if (reply.type !== 'evaluated') throw new Error(`unexpected compute reply ${reply.type}`);
      return reply.report;
    });
  }

  fingerprint(memoryMb?: number): Promise<SiteFingerprint> {
    return this.call(
      (id) => ({ type: 'fingerprint', id, memoryMb }),
      () => undefined,
    ).then((reply) => {
      if (reply.type !== 'fingerprinted') throw new Error(`unexpected compute reply ${reply.type}`);
      return reply.fingerprint;
    });
  }

  async close(): Promise<void> {
    this.closed ??= new Error('the compute thread was stopped');
    await this.slot.worker.terminate();
  }

  private async call(
    request: (id: number) => ComputeRequest,
    onProgress: (reply: ComputeReply) => void,
    mask?: MaskUpdate,
    transfer: ArrayBuffer[] = [],
  ): Promise<ComputeReply> {
    if (this.closed) throw this.closed;
    // A worker that died while loading is tried once more by the next call.
    if (this.slot.dead) {
      this.restarts++;
      this.log.warn('starting a new compute thread (the last one died while loading the data)');
      this.spawn();
    }
    const slot = this.slot;
    try {
      await slot.ready;
    } catch (err) {
      throw new Error(`the compute thread could not load the site's data: ${(err as Error).message}`);
    }
    if (slot.dead || this.closed)
      throw this.closed ?? new Error('the compute thread died before the task started');
    const id = this.nextId++;
    return new Promise<ComputeReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress, mask });
      slot.worker.postMessage(request(id), transfer);
    });
  }

  private post(request: ComputeRequest): void {
    this.slot.worker.postMessage(request);
  }

  private onMessage(slot: WorkerSlot, raw: unknown): void {
    if (slot !== this.slot) return;
    const parsed = ComputeReply.safeParse(raw);
    if (!parsed.success) {
      this.log.error(`the compute thread sent a malformed message: ${z.prettifyError(parsed.error)}`);
      return;
    }
    const reply = parsed.data;
    switch (reply.type) {
      case 'ready':
        slot.started = true;
        slot.resolveReady(reply);
        return;
      case 'init-failed':
        slot.rejectReady(new Error(reply.message));
        return;
      case 'log':
        this.log[reply.level](reply.line);
        return;
      case 'mask':
        void this.mask(reply);
        return;
    }
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    if (reply.type === 'train-progress' || reply.type === 'evaluate-progress') {
      pending.onProgress?.(reply);
      return;
    }
    this.pending.delete(reply.id);
    if (reply.type === 'failed')
      pending.reject(reply.refused ? new TaskRefusedError(reply.message) : new Error(reply.message));
    else pending.resolve(reply);
  }

  private async mask(reply: Extract<ComputeReply, { type: 'mask' }>): Promise<void> {
    const mask = this.pending.get(reply.id)?.mask;
    try {
      if (!mask) throw new Error('no masking context for this task');
      const ring = await mask(reply.delta, reply.weight);
      this.post({ type: 'masked', id: reply.id, ring });
    } catch (err) {
      this.post({ type: 'mask-failed', id: reply.id, message: (err as Error).message });
    }
  }

  /**
   * The worker ended without being asked to: its calls fail with the reason (AgentClient declines those tasks to
   * the coordinator), and a worker that had loaded the data is replaced at once.
   */
  private died(slot: WorkerSlot, why: string): void {
    if (slot.dead) return; // 'error' is followed by 'exit'
    slot.dead = true;
    if (this.closed || slot !== this.slot) return;
    const err = new Error(`the compute thread died (${why})`);
    slot.rejectReady(err);
    const inFlight = this.pending.size;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    if (!slot.started) {
      this.log.error(`compute thread: died while loading the site's data (${why})`);
      return;
    }
    this.restarts++;
    const tasks =
      inFlight > 0
        ? `; ${inFlight} task(s) in flight failed and are declined to the coordinator`
        : ' while idle';
    this.log.error(
      `compute thread: died (${why})${tasks}; starting a new compute thread (restart ${this.restarts}), ` +
        'which loads the data again',
    );
    const next = this.spawn();
    next.ready.then(
      () => this.log.info(`compute thread: restarted (restart ${this.restarts}); ready for the next task`),
      (e: Error) =>
        this.log.error(`compute thread: the restarted thread could not load the data: ${e.message}`),
    );
  }
}
