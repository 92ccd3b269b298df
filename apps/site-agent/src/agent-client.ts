import { io, type Socket } from 'socket.io-client';
import { z } from 'zod';
import {
  AgentEvents,
  Task,
  type Ack,
  type AgentHello,
  type BackendInfo,
  type MetricsReport,
  type UpdateSubmit,
} from '@fedseg/protocol';
import type { AgentLog } from './console-log';
import { TaskExecutor, TaskRefusedError, type TrainResult } from './task-executor';

const AckReply = z.object({ ok: z.boolean() }).passthrough();
const SUBMIT_TIMEOUT_MS = 120_000;

export interface AgentClientOptions {
  coordinator: string;
  site: string;
  backend: BackendInfo;
  maxConcurrentStudies: number;
  dataSummary: { trainCases: number; valCases: number };
  agentVersion: string;
}

/**
 * The agent's connection. socket.io reconnects with exponential backoff (1 s doubling to 30 s, jittered);
 * after each reconnect the agent says hello again and re-sends any result the coordinator has not acked.
 * Tasks run one at a time in arrival order; a task id already seen is not run twice.
 */
export class AgentClient {
  private readonly socket: Socket;
  private queue: Promise<void> = Promise.resolve();
  private readonly seenTasks = new Set<string>();
  private readonly unacked = new Map<string, { event: string; payload: unknown; blob?: Uint8Array }>();
  private lastProgressSent = 0;
  private closed = false;

  constructor(
    private readonly options: AgentClientOptions,
    private readonly executor: TaskExecutor,
    private readonly log: AgentLog,
  ) {
    this.socket = io(`${options.coordinator.replace(/\/$/, '')}/agent`, {
      reconnection: true,
      reconnectionDelay: 1_000,
      reconnectionDelayMax: 30_000,
      randomizationFactor: 0.5,
      autoConnect: false,
      transports: ['websocket'],
    });
    this.socket.on('connect', () => void this.hello());
    this.socket.on('disconnect', (reason) => {
      if (!this.closed) this.log.warn(`connection lost (${reason}); reconnecting with backoff`);
    });
    this.socket.on('connect_error', (err) =>
      this.log.warn(`cannot reach ${options.coordinator}: ${err.message}; retrying`),
    );
    this.socket.on(AgentEvents.task, (payload: unknown, blob: unknown) => this.onTask(payload, blob));
    this.socket.on(AgentEvents.protocolError, (e: unknown) =>
      this.log.warn(`coordinator refused a message: ${JSON.stringify(e)}`),
    );
  }

  start(): void {
    this.socket.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.catch(() => undefined);
    this.socket.close();
  }

  private async hello(): Promise<void> {
    const hello: AgentHello = {
      siteName: this.options.site,
      agentVersion: this.options.agentVersion,
      backend: this.options.backend,
      maxConcurrentStudies: this.options.maxConcurrentStudies,
      dataSummary: this.options.dataSummary,
    };
    const reply = await this.request(AgentEvents.hello, hello);
    if (!reply.ok) {
      this.log.error(`the coordinator refused this site: ${reply.error.message}`);
      return;
    }
    this.log.info(`connected to ${this.options.coordinator} as site ${this.options.site}`);
    for (const [key, pending] of this.unacked) {
      this.log.info(`re-sending ${key} after reconnect`);
      void this.deliver(key, pending.event, pending.payload, pending.blob);
    }
  }

  private async request(
    event: string,
    payload: unknown,
    blob?: Uint8Array,
  ): Promise<Ack<Record<string, unknown>>> {
    const args: unknown[] = blob
      ? [payload, Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength)]
      : [payload];
    const raw: unknown = await this.socket.timeout(SUBMIT_TIMEOUT_MS).emitWithAck(event, ...args);
    const parsed = AckReply.parse(raw);
    return parsed as Ack<Record<string, unknown>>;
  }

  /** Sends until acked (ok or a definite refusal); kept for re-sending after a reconnect. */
  private async deliver(key: string, event: string, payload: unknown, blob?: Uint8Array): Promise<void> {
    this.unacked.set(key, { event, payload, blob });
    if (!this.socket.connected) return; // hello() re-sends on reconnect
    try {
      const reply = await this.request(event, payload, blob);
      this.unacked.delete(key);
      if (!reply.ok) {
        const benign = reply.error.code === 'DUPLICATE_UPDATE' || reply.error.code === 'DUPLICATE_METRICS';
        if (benign) this.log.info(`${key}: the coordinator already had it`);
        else this.log.warn(`${key} refused: ${reply.error.message} (${reply.error.code})`);
      } else {
        this.log.info(`${key} accepted`);
      }
    } catch (err) {
      this.log.warn(`${key} not acknowledged (${(err as Error).message}); will re-send after reconnect`);
    }
  }

  private onTask(payload: unknown, blob: unknown): void {
    const parsed = Task.safeParse(payload);
    if (!parsed.success || !(blob instanceof Uint8Array)) {
      this.log.warn(
        `ignored a malformed task: ${parsed.success ? 'weights missing' : z.prettifyError(parsed.error)}`,
      );
      return;
    }
    const task = parsed.data;
    if (this.seenTasks.has(task.taskId)) return; // already queued, running or done (coordinator re-sent after a reconnect)
    this.seenTasks.add(task.taskId);
    const weights = new Uint8Array(blob); // own copy: the socket's buffer may be reused
    this.queue = this.queue.then(() => this.runTask(task, weights)).catch(() => undefined);
  }

  private async runTask(task: Task, weights: Uint8Array): Promise<void> {
    const label = `study ${task.studyId.slice(0, 8)} round ${task.round}`;
    try {
      if (task.kind === 'train') {
        this.log.info(`${label}: training ${task.training.epochs} epoch(s)`);
        const result: TrainResult = await this.executor.train(task, weights, (p) =>
          this.progress(task.taskId, task.studyId, task.round, label, p),
        );
        this.log.info(
          `${label}: trained, mean loss ${result.meta.trainLoss.toFixed(4)} on ${result.meta.samples} case(s)`,
        );
        await this.deliver(
          `update for ${label}`,
          AgentEvents.updateSubmit,
          result.meta satisfies UpdateSubmit,
          result.blob,
        );
      } else {
        const report: MetricsReport = await this.executor.evaluate(task, weights);
        const dice = report.metrics.dice;
        this.log.info(
          `${label}: global model Dice ${dice === undefined ? 'n/a' : dice.toFixed(4)} on ${report.samples} validation case(s)`,
        );
        await this.deliver(`evaluation for ${label}`, AgentEvents.metricsReport, report);
      }
    } catch (err) {
      const reason = err instanceof TaskRefusedError ? err.message : `failed: ${(err as Error).message}`;
      this.log.error(`${label}: ${reason}`, err);
      this.socket.emit(AgentEvents.taskDeclined, {
        taskId: task.taskId,
        studyId: task.studyId,
        round: task.round,
        kind: task.kind,
        reason,
      });
    }
  }

  private progress(
    taskId: string,
    studyId: string,
    round: number,
    label: string,
    p: { epoch: number; epochs: number; step: number; steps: number; loss?: number },
  ): void {
    const loss = p.loss === undefined ? '' : ` loss ${p.loss.toFixed(4)}`;
    this.log.progress(`${label}: epoch ${p.epoch + 1}/${p.epochs} step ${p.step}/${p.steps}${loss}`);
    if (Date.now() - this.lastProgressSent > 1_000 && this.socket.connected) {
      this.lastProgressSent = Date.now();
      this.socket.emit(AgentEvents.taskProgress, { taskId, studyId, round, ...p });
    }
  }
}
