import type { Socket } from 'socket.io-client';
import { z } from 'zod';
import { SecAggSite } from '@fedseg/aggregation';
import path from 'node:path';
import {
  AgentEvents,
  ChunkWindow,
  DEFAULT_MODEL_CHUNK_BYTES,
  MODEL_CHUNK_MAX_BYTES,
  ModelChunkReply,
  ModelOffer,
  SignatureDomains,
  SignedFingerprintRequest,
  SignedSecAggRequest,
  UpdateBeginReply,
  UpdateSealer,
  chunkCount,
  chunkRange,
  runWindow,
  signMessage,
  verifyMessage,
  type SecAggRequest,
  type Ack,
  type AgentHello,
  type BackendInfo,
  type FingerprintReport,
  type MetricsReport,
  type Task,
  type TrainTask,
} from '@fedseg/protocol';
import { agentSocket } from './agent-socket';
import type { AgentLog } from './console-log';
import type { AgentHome, AgentIdentityFile } from './identity-store';
import { checkTask } from './task-consent';
import type { Compute } from './compute/compute-thread';
import { TaskRefusedError, type MaskUpdate, type TrainResult } from './task-result';
import { ModelCache } from './model-cache';

const AckReply = z.object({ ok: z.boolean() }).passthrough();
/** Answers that mean "not now", not "no": nothing was stored, and the same message may be sent again. */
const RETRY_LATER = new Set([
  'INTERNAL',
  'UNAVAILABLE',
  'RATE_LIMITED',
  'TOO_MANY_TRANSFERS',
  'TRANSFER_FINISHING',
]);
const HELLO_RETRY_MS = 5_000;
const SUBMIT_TIMEOUT_MS = 120_000;
/** Chunks in flight at once, each way: enough to keep a long link busy, few enough to bound memory. */
const TRANSFER_WINDOW = 8;
/** A download that keeps failing (coordinator gone, model no longer offered) gives up after this many tries. */
const DOWNLOAD_ATTEMPTS = 20;
const DOWNLOAD_RETRY_MS = 1_000;

type ErrorAck = Extract<Ack<Record<string, unknown>>, { ok: false }>;

/** A definite refusal inside a windowed transfer: it ends the transfer with the coordinator's answer. */
class RefusedReply extends Error {
  constructor(readonly reply: ErrorAck) {
    super(`${reply.error.message} (${reply.error.code})`);
  }
}

export interface AgentClientOptions {
  coordinator: string;
  identity: AgentIdentityFile;
  home: AgentHome;
  backend: BackendInfo;
  maxConcurrentStudies: number;
  dataSummary: { trainCases: number; valCases: number };
  agentVersion: string;
  /** Bytes per chunk of an update upload and of a model download (each chunk is one socket message). */
  chunkBytes?: number;
  /** Sent in the data fingerprint (issue 18): memory this site gives one training step, MiB. */
  memoryMb?: number;
}

type Send = () => Promise<Ack<Record<string, unknown>>>;

/**
 * The agent's connection. Authenticated on every connect (see agent-socket.ts); socket.io reconnects with
 * exponential backoff (1 s doubling to 30 s, jittered); after each reconnect the agent says hello again and
 * re-sends any result the coordinator has not acked. Tasks must carry the pinned coordinator's signature
 * and a plan this site approved. Tasks run one at a time in arrival order; a task id seen is not run twice.
 */
export class AgentClient {
  private readonly socket: Socket;
  private queue: Promise<void> = Promise.resolve();
  private readonly seenTasks = new Set<string>();
  private readonly unacked = new Map<string, Send>();
  /** Attempts per unacked result that the coordinator asked to send again later (backoff). */
  private readonly retries = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Counts connects (socket.id survives a recovered session, so it cannot tell connections apart). */
  private connects = 0;
  private lastProgressSent = 0;
  private closed = false;
  /** True between an acknowledged hello and the next disconnect: only then may results be sent. */
  private identified = false;
  /** Secure aggregation: this site's secrets for the current round of each study, in memory only. */
  private readonly secAgg = new Map<string, { round: number; site: SecAggSite }>();
  /** Global models on this site's disk, by digest. */
  private readonly models: ModelCache;
  private identifiedWaiters: (() => void)[] = [];

  constructor(
    private readonly options: AgentClientOptions,
    /** Local training and evaluation, in the compute thread (compute-thread.ts), off this socket's event loop. */
    private readonly executor: Compute,
    private readonly log: AgentLog,
  ) {
    this.models = new ModelCache(path.join(options.home.dir, 'models'));
    this.socket = agentSocket(options.identity, options.coordinator);
    this.socket.on('connect', () => {
      this.connects += 1;
      this.hello().catch((err: Error) => this.log.warn(`hello not acknowledged (${err.message})`));
    });
    this.socket.on('disconnect', (reason) => {
      this.identified = false;
      if (!this.closed) this.log.warn(`connection lost (${reason}); reconnecting with backoff`);
      if (reason === 'io server disconnect' && !this.closed)
        this.log.error(
          'the coordinator closed this connection (revoked, or replaced by a newer session); not reconnecting',
        );
    });
    this.socket.on('connect_error', (err: Error & { data?: { code?: string } }) =>
      this.log.warn(
        `cannot connect to ${options.coordinator}: ${err.message}${err.data?.code ? ` (${err.data.code})` : ''}; retrying`,
      ),
    );
    this.socket.on(AgentEvents.task, (payload: unknown, offer: unknown) => this.onTask(payload, offer));
    this.socket.on(AgentEvents.secAggRequest, (payload: unknown) => this.onSecAgg(payload));
    this.socket.on(AgentEvents.fingerprintRequest, (payload: unknown) => this.onFingerprint(payload));
    this.socket.on(AgentEvents.protocolError, (e: unknown) => {
      const code = z.object({ code: z.string() }).safeParse(e).data?.code;
      if (code === 'SESSION_REPLACED')
        this.log.error(
          'another connection of this site replaced this one (a second agent running with this identity?); this agent stops reconnecting',
        );
      else this.log.warn(`coordinator refused a message: ${JSON.stringify(e)}`);
    });
  }

  start(): void {
    this.socket.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.identifiedWaiters.splice(0)) wake();
    await this.queue.catch(() => undefined);
    this.socket.close();
  }

  private get site(): string {
    return this.options.identity.siteName;
  }

  private async hello(): Promise<void> {
    const hello: AgentHello = {
      siteName: this.site,
      agentVersion: this.options.agentVersion,
      backend: this.options.backend,
      maxConcurrentStudies: this.options.maxConcurrentStudies,
      dataSummary: this.options.dataSummary,
    };
    let reply: Ack<Record<string, unknown>>;
    try {
      reply = await this.request(AgentEvents.hello, hello);
    } catch (err) {
      this.helloAgainLater(`hello not acknowledged (${(err as Error).message})`);
      return;
    }
    if (!reply.ok && RETRY_LATER.has(reply.error.code)) {
      this.helloAgainLater(`the coordinator could not take the hello now (${reply.error.code})`);
      return;
    }
    if (!reply.ok) {
      this.log.error(`the coordinator refused this site: ${reply.error.message}`);
      return;
    }
    this.log.info(`connected to ${this.options.coordinator} as site ${this.site} (authenticated)`);
    this.identified = true;
    for (const wake of this.identifiedWaiters.splice(0)) wake();
    for (const [key, send] of this.unacked) {
      this.log.info(`re-sending ${key} after reconnect`);
      void this.deliver(key, send);
    }
  }

  /**
   * A connection whose hello got no answer is of no use (results wait for an acknowledged hello): say hello
   * again on the same connection after a pause, while it stays up.
   */
  private helloAgainLater(why: string): void {
    const connection = this.connects;
    this.log.warn(`${why}; saying hello again in ${HELLO_RETRY_MS / 1000} s`);
    this.later(HELLO_RETRY_MS, () => {
      if (this.socket.connected && this.connects === connection && !this.identified)
        this.hello().catch((err: Error) => this.log.warn(`hello failed (${err.message})`));
    });
  }

  /** A timer that close() cancels. */
  private later(ms: number, run: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) run();
    }, ms);
    this.timers.add(timer);
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
    return AckReply.parse(raw) as Ack<Record<string, unknown>>;
  }

  /**
   * Sends until acked (ok or a definite refusal); kept for re-sending after a reconnect. Only after the
   * coordinator acknowledged this connection's hello: before it, a result is refused as from an unidentified
   * site (issue 18 lost an evaluation that way), so it waits for hello() to re-send it.
   */
  private async deliver(key: string, send: Send): Promise<void> {
    this.unacked.set(key, send);
    if (!this.socket.connected || !this.identified) return; // hello() re-sends on reconnect
    try {
      const reply = await send();
      if (!reply.ok && reply.error.code === 'SITE_NOT_IDENTIFIED') {
        // The connection dropped and came back between the check above and the send: hello() re-sends it.
        this.log.info(`${key}: the coordinator asks for a hello first; kept for re-sending`);
        return;
      }
      if (!reply.ok && RETRY_LATER.has(reply.error.code)) {
        // The coordinator could not take it now (its database restarting, say): nothing was stored, so the
        // result stays here and is sent again, later and later, until it gets a definite answer.
        const attempt = (this.retries.get(key) ?? 0) + 1;
        this.retries.set(key, attempt);
        const delayMs = Math.min(2_000 * 2 ** (attempt - 1), 60_000);
        this.log.warn(
          `${key}: the coordinator could not take it now (${reply.error.code}); retrying in ${Math.round(delayMs / 1000)} s`,
        );
        this.later(delayMs, () => {
          if (this.unacked.get(key) === send) void this.deliver(key, send);
        });
        return;
      }
      this.unacked.delete(key);
      this.retries.delete(key);
      if (!reply.ok) {
        const benign = ['DUPLICATE_UPDATE', 'DUPLICATE_METRICS', 'DUPLICATE_FINGERPRINT'].includes(
          reply.error.code,
        );
        if (benign) this.log.info(`${key}: the coordinator already had it`);
        else this.log.warn(`${key} refused: ${reply.error.message} (${reply.error.code})`);
      } else {
        this.log.info(`${key} accepted`);
      }
    } catch (err) {
      this.log.warn(`${key} not acknowledged (${(err as Error).message}); will re-send after reconnect`);
    }
  }

  /**
   * Seals the update for the pinned coordinator key (a fresh key and nonce per update) and sends the signed
   * header, then its chunks with up to TRANSFER_WINDOW in flight; the ack of the last chunk stored is the
   * coordinator's verdict on the whole update. Sent again after a reconnect, it keeps its header: the
   * coordinator answers the header with the chunk it holds everything before, and only the rest is sent.
   */
  private sendUpdate(result: TrainResult, label: string): Send {
    const { identity } = this.options;
    const { taskId, studyId, round, samples, trainLoss, steps } = result.meta;
    const sealer = new UpdateSealer(
      { taskId, studyId, round, siteId: identity.siteId, samples, trainLoss, steps, codec: result.codec },
      result.blob,
      {
        coordinatorAgreementPublicKey: identity.coordinator.agreementPublicKey,
        siteSigningSecretKey: identity.keys.signingSecretKey,
      },
      this.options.chunkBytes,
    );
    const nonce = sealer.begin.header.nonce;
    // The key is forgotten once the coordinator gave a verdict; a "not now" (or "say hello first") is no
    // verdict: the same sealed update is sent again later and must still be sealable.
    const settle = (reply: Ack<Record<string, unknown>>): Ack<Record<string, unknown>> => {
      if (reply.ok || !(RETRY_LATER.has(reply.error.code) || reply.error.code === 'SITE_NOT_IDENTIFIED'))
        sealer.dispose();
      return reply;
    };
    let window: ChunkWindow | undefined;
    let attempts = 0;
    return async () => {
      const resumed = attempts++ > 0;
      let begun = await this.request(AgentEvents.updateBegin, sealer.begin);
      // Cut while the coordinator checked the whole: its verdict is moments away.
      for (let i = 0; i < 30 && !begun.ok && begun.error.code === 'TRANSFER_FINISHING'; i++) {
        await new Promise((r) => setTimeout(r, DOWNLOAD_RETRY_MS));
        begun = await this.request(AgentEvents.updateBegin, sealer.begin);
      }
      if (!begun.ok) {
        // This header's nonce is known to the coordinator only through this site, and a transfer is resumed
        // only from a new connection: "used" then means the coordinator stored this very update before the cut.
        if (resumed && begun.error.code === 'NONCE_REUSED')
          return {
            ok: false,
            error: {
              code: 'DUPLICATE_UPDATE',
              message: 'the coordinator stored it before the connection dropped',
            },
          };
        return settle(begun);
      }
      const { chunks, resumeFrom } = UpdateBeginReply.parse(begun);
      window ??= new ChunkWindow(chunks, TRANSFER_WINDOW);
      window.resumeAt(resumeFrom);
      if (resumed) this.log.info(`${label}: resuming the upload at chunk ${resumeFrom}/${chunks}`);
      let verdict: Ack<Record<string, unknown>> | undefined;
      try {
        await runWindow(window, async (index) => {
          const reply = await this.request(AgentEvents.updateChunk, { nonce, index }, sealer.seal(index));
          if (!reply.ok) throw new RefusedReply(reply);
          if (!('received' in reply)) verdict = reply;
        });
      } catch (err) {
        if (!(err instanceof RefusedReply)) throw err; // connection trouble: re-sent after the reconnect
        return settle(err.reply);
      }
      return settle(
        verdict ?? {
          ok: false,
          error: { code: 'NO_VERDICT', message: 'every chunk was acknowledged, but no verdict came' },
        },
      );
    };
  }

  /** Resolves once this connection's hello was acknowledged (at once if it already is). */
  private whenIdentified(): Promise<void> {
    if (this.identified || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.identifiedWaiters.push(resolve));
  }

  /**
   * The task's global model: from this site's disk when it holds the digest, otherwise pulled in chunks with
   * up to TRANSFER_WINDOW in flight, written at their offsets, and kept only when the whole hashes to the
   * digest the coordinator signed. A cut connection resumes after the reconnect from the chunks received.
   */
  private async globalModel(offer: ModelOffer, label: string): Promise<Uint8Array> {
    const { sha256, bytes } = offer;
    if (await this.models.has(sha256, bytes)) {
      this.log.info(
        `${label}: global model ${sha256.slice(0, 12)} already on this site's disk; not downloaded`,
      );
      return this.models.read(sha256);
    }
    const chunkBytes = Math.min(this.options.chunkBytes ?? DEFAULT_MODEL_CHUNK_BYTES, MODEL_CHUNK_MAX_BYTES);
    const window = new ChunkWindow(chunkCount(bytes, chunkBytes), TRANSFER_WINDOW);
    const part = await this.models.open(sha256, bytes);
    this.log.info(
      `${label}: downloading global model ${sha256.slice(0, 12)} (${bytes} bytes, ${window.chunks} chunks)`,
    );
    try {
      for (let attempt = 1; ; attempt++) {
        await this.whenIdentified();
        if (this.closed) throw new Error('the agent is stopping');
        if (attempt > 1)
          this.log.info(
            `${label}: resuming the download of global model ${sha256.slice(0, 12)} at chunk ${window.prefix}/${window.chunks} (${window.acknowledged} received)`,
          );
        try {
          await runWindow(window, async (index) => {
            const reply = await this.request(AgentEvents.modelChunk, { sha256, index, chunkBytes });
            if (!reply.ok) throw new RefusedReply(reply);
            const chunk = ModelChunkReply.parse(reply);
            const { offset, length } = chunkRange(bytes, chunkBytes, index);
            if (chunk.index !== index || chunk.bytes.length !== length)
              throw new Error(
                `chunk ${index} came back as chunk ${chunk.index} of ${chunk.bytes.length} bytes`,
              );
            await part.write(offset, chunk.bytes);
          });
          break;
        } catch (err) {
          // Refusals that a reconnect explains (the coordinator restarted and has not re-offered it yet) are retried.
          const code = err instanceof RefusedReply ? err.reply.error.code : undefined;
          if (code && code !== 'MODEL_NOT_OFFERED' && code !== 'SITE_NOT_IDENTIFIED') throw err;
          if (attempt >= DOWNLOAD_ATTEMPTS)
            throw new Error(`the global model could not be downloaded: ${(err as Error).message}`);
          this.log.warn(`${label}: model download interrupted (${(err as Error).message}); will resume`);
          await new Promise((r) => setTimeout(r, DOWNLOAD_RETRY_MS));
        }
      }
      await part.finish();
    } catch (err) {
      await part.discard();
      throw err;
    }
    this.log.info(`${label}: global model ${sha256.slice(0, 12)} downloaded and verified`);
    return this.models.read(sha256);
  }

  private onTask(payload: unknown, rawOffer: unknown): void {
    const { identity, home } = this.options;
    const check = checkTask(payload, identity.coordinator.signingPublicKey, (studyId, hash) =>
      home.isApproved(studyId, hash),
    );
    const offer = ModelOffer.safeParse(rawOffer);
    if (!check.ok && !check.task) {
      // Unsigned, forged or malformed: not from our coordinator, so nothing to answer.
      this.log.error(`ignored a task: ${check.reason}`);
      return;
    }
    const task = check.task!;
    if (!offer.success || offer.data.sha256 !== task.globalSha256) {
      this.log.error(`ignored a task: its model offer is missing or does not match the signed global sha256`);
      return;
    }
    if (this.seenTasks.has(task.taskId)) return; // already queued, running or done (coordinator re-sent after a reconnect)
    this.seenTasks.add(task.taskId);
    const refusal = check.ok ? null : check.reason;
    this.queue = this.queue.then(() => this.runTask(task, offer.data, refusal)).catch(() => undefined);
  }

  /**
   * Trains on the task's global model. Its own frame, so the model (as large as the update) is garbage once
   * the update is made: the upload then holds the update alone, not the model too.
   */
  private async train(task: TrainTask, offer: ModelOffer, label: string): Promise<TrainResult> {
    const weights = await this.globalModel(offer, label);
    this.log.info(`${label}: training ${task.plan.training.epochs} epoch(s)`);
    return this.executor.train(
      task,
      weights,
      (p) => this.progress(task.taskId, task.studyId, task.round, label, p),
      task.secureAggregation ? this.masker(task) : undefined,
    );
  }

  private async runTask(task: Task, offer: ModelOffer, refusal: string | null): Promise<void> {
    const label = `study ${task.studyId.slice(0, 8)} round ${task.round}`;
    try {
      if (refusal) throw new TaskRefusedError(refusal);
      if (task.kind === 'train') {
        const result = await this.train(task, offer, label);
        this.log.info(
          `${label}: trained, mean loss ${result.meta.trainLoss.toFixed(4)} on ${result.meta.samples} case(s); sending the encrypted update`,
        );
        await this.deliver(`update for ${label}`, this.sendUpdate(result, `update for ${label}`));
      } else {
        const weights = await this.globalModel(offer, label);
        this.log.info(`${label}: scoring the global model on this site's validation cases`);
        const report: MetricsReport = await this.executor.evaluate(task, weights, (p) =>
          this.log.progress(
            `${label}: evaluation case ${p.caseIndex + 1}/${p.cases}, windows ${p.done}/${p.total}`,
          ),
        );
        const dice = report.metrics.dice;
        this.log.info(
          `${label}: global model Dice ${dice === undefined ? 'n/a' : dice.toFixed(4)} on ${report.samples} validation case(s)`,
        );
        await this.deliver(`evaluation for ${label}`, () => this.request(AgentEvents.metricsReport, report));
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

  /**
   * A secure-aggregation phase request: checked against the pinned coordinator key, answered by this
   * round's SecAggSite (idempotent), and delivered until acknowledged. A refusal reveals nothing and is
   * reported as a decline, so the round does not wait for this site.
   */
  private onSecAgg(payload: unknown): void {
    const parsed = SignedSecAggRequest.safeParse(payload);
    const pinned = this.options.identity.coordinator.signingPublicKey;
    if (
      !parsed.success ||
      !verifyMessage(SignatureDomains.secAggRequest, parsed.data.request, parsed.data.signature, pinned)
    ) {
      this.log.error(
        'ignored a secure-aggregation request that is malformed or not signed by the pinned coordinator',
      );
      return;
    }
    const request = parsed.data.request;
    const label = `study ${request.studyId.slice(0, 8)} round ${request.round} secure aggregation (${request.phase})`;
    try {
      const signed = this.answerSecAgg(request);
      void this.deliver(`${label}`, () => this.request(AgentEvents.secAggReply, signed));
    } catch (err) {
      const reason = (err as Error).message;
      this.log.error(`${label}: refused: ${reason}`);
      this.socket.emit(AgentEvents.secAggDeclined, {
        studyId: request.studyId,
        round: request.round,
        phase: request.phase,
        reason,
      });
    }
  }

  /**
   * Issue 18's fingerprint phase: for a request signed by the pinned coordinator about a plan this site approved
   * (the plan says the fingerprint is asked for), the compute thread computes the training cases' aggregate
   * statistics, which are signed with the site key and delivered until acknowledged. Exactly the SiteFingerprint
   * schema leaves, the message `fedseg-agent fingerprint` prints; anything else is a decline with a reason.
   */
  private onFingerprint(payload: unknown): void {
    const parsed = SignedFingerprintRequest.safeParse(payload);
    const { identity, home } = this.options;
    if (
      !parsed.success ||
      !verifyMessage(
        SignatureDomains.fingerprintRequest,
        parsed.data.request,
        parsed.data.signature,
        identity.coordinator.signingPublicKey,
      )
    ) {
      this.log.error(
        'ignored a fingerprint request that is malformed or not signed by the pinned coordinator',
      );
      return;
    }
    const { studyId, planHash } = parsed.data.request;
    const label = `study ${studyId.slice(0, 8)} data fingerprint`;
    if (!home.isApproved(studyId, planHash)) {
      const reason = `this site has not approved plan ${planHash.slice(0, 12)} of the study`;
      this.log.warn(`${label}: declined: ${reason}`);
      this.socket.emit(AgentEvents.fingerprintDeclined, { studyId, reason });
      return;
    }
    this.queue = this.queue
      .then(async () => {
        this.log.info(
          `${label}: computing aggregate statistics of the training cases (nothing else is sent)`,
        );
        const fingerprint = await this.executor.fingerprint(this.options.memoryMb);
        const report: FingerprintReport = { studyId, fingerprint };
        const signed = {
          report,
          signature: signMessage(SignatureDomains.fingerprintReport, report, identity.keys.signingSecretKey),
        };
        await this.deliver(label, () => this.request(AgentEvents.fingerprintReport, signed));
      })
      .catch((err: Error) => {
        this.log.error(`${label}: failed: ${err.message}`, err);
        this.socket.emit(AgentEvents.fingerprintDeclined, { studyId, reason: `failed: ${err.message}` });
      });
  }

  private answerSecAgg(request: SecAggRequest) {
    const { identity, home } = this.options;
    if (home.approvedPlans(request.studyId).length === 0)
      throw new Error('this site has not approved any plan of the study');
    let session = this.secAgg.get(request.studyId);
    if (request.phase === 'advertise') {
      if (!session || session.round !== request.round) {
        // A new round replaces the last one's secrets: they are never needed again.
        session = {
          round: request.round,
          site: new SecAggSite({
            studyId: request.studyId,
            round: request.round,
            siteId: identity.siteId,
            threshold: request.threshold,
            signingSecretKey: identity.keys.signingSecretKey,
          }),
        };
        this.secAgg.set(request.studyId, session);
      }
      return session.site.advertise();
    }
    if (!session || session.round !== request.round)
      throw new Error(
        'this agent holds no secure-aggregation keys for the round (restarted since?); it drops out of the round',
      );
    return request.phase === 'share' ? session.site.share(request) : session.site.unmask(request);
  }

  private masker(task: Task): MaskUpdate {
    const context = task.kind === 'train' ? task.secureAggregation : undefined;
    const session = this.secAgg.get(task.studyId);
    if (!context || !session || session.round !== task.round)
      throw new TaskRefusedError(
        'this agent holds no secure-aggregation keys for the round (restarted since?); it drops out of the round',
      );
    if (
      task.plan.secureAggregation?.threshold !== context.threshold ||
      session.site.threshold !== context.threshold
    )
      throw new TaskRefusedError(
        `the masking threshold ${context.threshold} differs from the approved plan's ${task.plan.secureAggregation?.threshold}`,
      );
    return (delta, weight) => session.site.mask(context, delta, weight);
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
