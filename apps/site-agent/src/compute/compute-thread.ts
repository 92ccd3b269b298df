import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import type { BackendInfo, EvaluateTask, MetricsReport, SiteFingerprint, TrainTask } from '@fedseg/protocol';
import type { AgentLog } from '../console-log';
import { TaskRefusedError, type MaskUpdate, type TrainResult } from '../task-result';
import { ComputeReply, type ComputeInit, type ComputeRequest, type TrainProgress } from './compute-messages';

export type { TrainProgress };

/** Where sliding-window evaluation stands: case `caseIndex` of `cases`, `done` of `total` window batches. */
export interface EvaluateProgress {
  caseIndex: number;
  cases: number;
  done: number;
  total: number;
}

/** What the socket side (AgentClient) asks of local compute. */
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

/**
 * Runs compute-worker.ts in a worker thread (issue 18: a 6-minute evaluation on the socket's thread stopped
 * socket.io's heartbeat and the coordinator dropped the site). The worker runs the same TypeScript the agent
 * runs: from a checkout through swc's require hook (scripts/ts-bin.js), compiled JavaScript as it is.
 */
export class ComputeThread implements Compute {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private ready?: { resolve(r: ComputeReady): void; reject(err: Error): void };
  private exited?: Error;

  private constructor(private readonly log: AgentLog) {
    // oneDNN's OpenMP threads spin while idle unless OMP_WAIT_POLICY says otherwise, and libgomp reads the
    // process's real environment when the addon loads. @fedseg/models sets it to passive through process.env, but
    // a worker's process.env is a copy that never reaches getenv(): measured here, 16^3 training steps ran 10-20x
    // slower in the worker until the socket thread set it before starting the worker.
    process.env.OMP_WAIT_POLICY ??= 'passive';
    const entry = path.join(__dirname, `compute-worker${path.extname(__filename)}`);
    // A worker does not inherit the parent's require hooks: register swc first when running from source.
    const bootstrap = `
      const { workerData } = require('node:worker_threads');
      if (workerData.entry.endsWith('.ts')) require('@swc-node/register');
      require(workerData.entry);`;
    this.worker = new Worker(bootstrap, { eval: true, workerData: { entry } });
    this.worker.on('message', (raw: unknown) => this.onMessage(raw));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`the compute thread exited (code ${code})`)));
  }

  /** Starts the thread, which picks the backend and loads (and keeps) the site's data. */
  static async start(options: ComputeInit, log: AgentLog): Promise<{ thread: ComputeThread } & ComputeReady> {
    const thread = new ComputeThread(log);
    const ready = await new Promise<ComputeReady>((resolve, reject) => {
      thread.ready = { resolve, reject };
      thread.post({ type: 'init', options });
    });
    return { thread, ...ready };
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
    this.exited ??= new Error('the compute thread was stopped');
    await this.worker.terminate();
  }

  private call(
    request: (id: number) => ComputeRequest,
    onProgress: (reply: ComputeReply) => void,
    mask?: MaskUpdate,
  ): Promise<ComputeReply> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<ComputeReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress, mask });
      this.post(request(id));
    });
  }

  private post(request: ComputeRequest): void {
    this.worker.postMessage(request);
  }

  private onMessage(raw: unknown): void {
    const parsed = ComputeReply.safeParse(raw);
    if (!parsed.success) {
      this.log.error(`the compute thread sent a malformed message: ${z.prettifyError(parsed.error)}`);
      return;
    }
    const reply = parsed.data;
    switch (reply.type) {
      case 'ready':
        this.ready?.resolve(reply);
        return;
      case 'init-failed':
        this.ready?.reject(new Error(reply.message));
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

  private fail(err: Error): void {
    if (this.exited) return;
    this.exited = err;
    this.log.error(`compute thread: ${err.message}`, err);
    this.ready?.reject(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
