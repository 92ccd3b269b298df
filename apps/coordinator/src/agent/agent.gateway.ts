import crypto from 'node:crypto';
import { Inject, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
  type OnGatewayInit,
} from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import { z } from 'zod';
import {
  AgentEvents,
  AgentHello,
  FedsegError,
  MetricsReport,
  ModelChunkRequest,
  PlanRequest,
  SecAggDeclined,
  TaskDeclined,
  TaskProgress,
  UpdateBegin,
  UpdateChunk,
  UpdateOpener,
  parseOrThrow,
  type Ack,
  type SignedFingerprintRequest,
  type SignedSecAggRequest,
  type SignedTask,
} from '@fedseg/protocol';
import { FingerprintService } from '../fingerprint/fingerprint.service';
import { SecureAggregationService } from '../rounds/secure-aggregation.service';
import { CoordinatorMetrics } from '../ops/coordinator-metrics.service';
import { AuditRepository } from '../audit/audit.repository';
import { SiteNotIdentifiedError } from '../common/errors';
import { toErrorBody } from '../common/error-body';
import { childLogger } from '../common/logger';
import type { CoordinatorConfig } from '../config/coordinator-config';
import { ConsentService } from '../consent/consent.service';
import { BLOB_STORE, COORDINATOR_CONFIG } from '../core/tokens';
import type { CoordinatorIdentity } from '../identity/coordinator-identity';
import { COORDINATOR_IDENTITY } from '../identity/identity.tokens';
import { RoundEvents } from '../rounds/round-events';
import { RoundSchedulerService } from '../rounds/round-scheduler.service';
import { UpdatesService, type AdmittedUpdate } from '../rounds/updates.service';
import { SiteRegistry } from '../sites/site-registry.service';
import { SitesRepository } from '../sites/sites.repository';
import { StudiesRepository } from '../studies/studies.repository';
import { AgentAuthenticator, type AuthenticatedSite } from './agent-authenticator';
import { ConnectChallenges } from './connect-challenges';
import { faultPoint } from '../ops/fault-points';
import type { BlobStore } from '../storage/blob-store';
import { ModelOffers } from './model-offers';
import { DEFAULT_UPDATE_TRANSFER_LIMITS, TRANSFERS_FOLDER, UpdateTransfers } from './update-transfers';

type AckFn = (reply: Ack<Record<string, unknown>>) => void;

const Binary = z.instanceof(Uint8Array, { message: 'expected a binary attachment' });
const KNOWN_EVENTS = new Set<string>(Object.values(AgentEvents));

interface SocketState {
  site: AuthenticatedSite;
  hello?: AgentHello;
  /**
   * This connection, new on every connect: socket.id survives socket.io's connection-state recovery, but a
   * transfer resumed after a reconnect must tell the new connection from the old.
   */
  connection: string;
}

/**
 * The /agent namespace. The handshake middleware authenticates the site before any handler runs; every
 * payload is then parsed before use and bound to the authenticated site. A refused message gets an error
 * (in its ack, or as a protocol:error event when it came without one), changes nothing, is audited, and
 * never takes the process down.
 */
@WebSocketGateway({ namespace: '/agent' })
export class AgentGateway
  implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleInit, OnModuleDestroy
{
  private readonly log = childLogger('agent-gateway');
  /** Global models pulled in chunks by the sites their tasks went to. */
  private readonly models: ModelOffers;
  /** Update uploads in progress, resumable across a site's connections. */
  private readonly transfers: UpdateTransfers<AdmittedUpdate>;

  constructor(
    private readonly sites: SitesRepository,
    private readonly registry: SiteRegistry,
    private readonly updates: UpdatesService,
    private readonly scheduler: RoundSchedulerService,
    private readonly events: RoundEvents,
    private readonly audit: AuditRepository,
    private readonly authenticator: AgentAuthenticator,
    private readonly challenges: ConnectChallenges,
    private readonly consent: ConsentService,
    private readonly studies: StudiesRepository,
    private readonly secureAggregation: SecureAggregationService,
    private readonly metrics: CoordinatorMetrics,
    private readonly fingerprints: FingerprintService,
    @Inject(COORDINATOR_IDENTITY) private readonly identity: CoordinatorIdentity,
    @Inject(COORDINATOR_CONFIG) private readonly config: CoordinatorConfig,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
  ) {
    this.models = new ModelOffers(blobs);
    this.transfers = new UpdateTransfers(blobs, {
      ...DEFAULT_UPDATE_TRANSFER_LIMITS,
      maxTransfers: config.maxOpenUploads,
    });
  }

  /**
   * Transfers in flight live in this process's memory (which sites may fetch which model, which partial
   * update belongs to whom): what a previous process left under transfers/ is no one's any more. A site whose
   * upload was cut by the restart sends it again from the start (its update:begin finds nothing to resume).
   */
  async onModuleInit(): Promise<void> {
    await this.blobs.deleteFolder(TRANSFERS_FOLDER);
  }

  async onModuleDestroy(): Promise<void> {
    await this.transfers.close();
  }

  afterInit(nsp: Namespace): void {
    nsp.use((socket, next) => {
      const source = socket.handshake.address;
      this.authenticator
        .authenticate(socket.handshake.auth, source, (nonce) => this.challenges.consume(nonce))
        .then(
          (site) => {
            socket.data.state = { site, connection: crypto.randomUUID() } satisfies SocketState;
            next();
          },
          (err: unknown) => {
            const body = toErrorBody(err, this.log);
            this.log.warn({ source, code: body.code }, `connection refused: ${body.message}`);
            void this.audit.refused({
              actor: 'anonymous',
              action: 'agent.connect-refused',
              details: { code: body.code },
              source,
            });
            next(Object.assign(new Error(body.message), { data: body }));
          },
        );
    });
  }

  handleConnection(socket: Socket): void {
    const state = socket.data.state as SocketState | undefined;
    if (!state) {
      socket.disconnect(true); // cannot happen: the middleware admits only authenticated sockets
      return;
    }
    socket.conn.once('close', (reason: string, description?: unknown) => {
      if (reason === 'transport error' || reason === 'parse error')
        this.log.warn(
          {
            site: state.site.name,
            reason,
            detail: description instanceof Error ? description.message : undefined,
          },
          `closed ${state.site.name}'s connection: ${reason}${description instanceof Error ? ` (${description.message}; the socket message cap is ${this.config.maxMessageBytes} bytes)` : ''}`,
        );
    });
    this.on(socket, AgentEvents.hello, async ([payload]) => {
      const hello = parseOrThrow(AgentHello, payload, `${AgentEvents.hello} message`);
      if (hello.siteName !== state.site.name)
        throw new FedsegError(
          'SITE_MISMATCH',
          `This connection is authenticated as site ${state.site.name}, not ${hello.siteName}.`,
        );
      await this.sites.recordHello(state.site.siteId, hello);
      state.hello = hello;
      await this.audit.record({
        actor: `site:${state.site.name}`,
        action: 'site.connected',
        details: { backend: hello.backend.name },
        source: socket.handshake.address,
      });
      this.registry.connect(state.site.siteId, hello, {
        connectionId: socket.id,
        // The task names the model by digest; the agent pulls the chunks it lacks (model:chunk), if any.
        sendTask: (signed: SignedTask, weights: Uint8Array) => {
          this.models.offer(state.site.siteId, signed.task.globalSha256, weights).then(
            (offer) => socket.emit(AgentEvents.task, signed, offer),
            (err: unknown) =>
              this.log.error(
                { site: state.site.name, err: err instanceof Error ? err.message : String(err) },
                'cannot offer the global model; the task was not sent',
              ),
          );
        },
        sendSecAgg: (request: SignedSecAggRequest) => socket.emit(AgentEvents.secAggRequest, request),
        sendFingerprintRequest: (request: SignedFingerprintRequest) =>
          socket.emit(AgentEvents.fingerprintRequest, request),
        close: (reason: string, code = 'SITE_REVOKED') => {
          socket.emit(AgentEvents.protocolError, { code, message: reason });
          socket.disconnect(true);
        },
      });
      this.log.info(
        { site: state.site.name, backend: hello.backend.name, adapter: hello.backend.adapter },
        'site connected',
      );
      return { siteId: state.site.siteId, coordinatorFingerprint: this.identity.fingerprint };
    });
    this.on(socket, AgentEvents.modelChunk, async ([payload]) => {
      const site = this.helloed(socket);
      const request = parseOrThrow(ModelChunkRequest, payload, `${AgentEvents.modelChunk} message`);
      const bytes = await this.models.chunk(site.siteId, request);
      this.metrics.bytesOut.inc(bytes.byteLength);
      return {
        index: request.index,
        bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      };
    });
    this.on(socket, AgentEvents.updateBegin, async ([payload]) => {
      const site = this.helloed(socket);
      const begin = parseOrThrow(UpdateBegin, payload, `${AgentEvents.updateBegin} message`);
      if (begin.header.siteId !== site.siteId)
        throw new FedsegError(
          'SITE_MISMATCH',
          `This connection is site ${site.name}; it cannot send another site's update.`,
        );
      const opener = new UpdateOpener(begin, {
        siteSigningPublicKey: site.signingPublicKey,
        coordinatorAgreementSecretKey: this.identity.secret.agreementSecretKey,
      });
      try {
        const admitted = await this.updates.precheck(site, opener.header, this.config.maxUpdateBytes);
        const { resumeFrom } = await this.transfers.begin(site.siteId, state.connection, opener, admitted);
        if (resumeFrom > 0)
          this.log.info(
            { site: site.name, resumeFrom, chunks: opener.header.chunks },
            'update transfer resumed after a reconnect',
          );
        return { chunks: opener.header.chunks, resumeFrom };
      } catch (err) {
        opener.dispose();
        throw err;
      }
    });
    this.on(socket, AgentEvents.updateChunk, async ([payload, blob]) => {
      const site = this.helloed(socket);
      const chunk = parseOrThrow(UpdateChunk, payload, `${AgentEvents.updateChunk} message`);
      const bytes = parseOrThrow(Binary, blob, `${AgentEvents.updateChunk} bytes`);
      const outcome = await this.transfers.chunk(state.connection, chunk.nonce, chunk.index, bytes);
      if (!outcome.done) {
        faultPoint('mid-upload');
        return { received: chunk.index, prefix: outcome.prefix };
      }
      const h = outcome.header;
      return this.updates.submitUpdate(
        site,
        {
          taskId: h.taskId,
          studyId: h.studyId,
          round: h.round,
          samples: h.samples,
          sha256: h.payloadSha256,
          trainLoss: h.trainLoss,
          steps: h.steps,
        },
        outcome.plaintext,
        h.nonce,
        outcome.admitted,
        outcome.sha256,
      );
    });
    this.on(socket, AgentEvents.secAggReply, async ([payload]) => {
      await this.secureAggregation.accept(this.helloed(socket), payload);
      return {};
    });
    this.on(socket, AgentEvents.secAggDeclined, async ([payload]) => {
      const site = this.helloed(socket);
      const d = parseOrThrow(SecAggDeclined, payload, `${AgentEvents.secAggDeclined} message`);
      this.log.warn(
        { site: site.name, studyId: d.studyId, round: d.round, phase: d.phase, reason: d.reason },
        'secure aggregation step declined',
      );
      await this.audit.record({
        actor: `site:${site.name}`,
        action: 'task.declined',
        subject: d.studyId,
        details: { round: d.round, kind: `secagg-${d.phase}`, reason: d.reason },
      });
      this.scheduler.declined(d.studyId, site.siteId, 'train');
      return {};
    });
    this.on(socket, AgentEvents.planGet, async ([payload]) => {
      const { studyId } = parseOrThrow(PlanRequest, payload, `${AgentEvents.planGet} message`);
      const study = await this.studies.get(studyId);
      this.consent.assertInvited(study, state.site);
      return { ...this.consent.planOf(study) };
    });
    this.on(socket, AgentEvents.planApprove, async ([payload]) => {
      const approved = await this.consent.approve(this.studies, state.site, payload);
      this.scheduler.notify((payload as { approval: { studyId: string } }).approval.studyId);
      return approved;
    });
    this.on(socket, AgentEvents.metricsReport, async ([payload]) => {
      const site = this.helloed(socket);
      await this.updates.reportMetrics(
        site,
        parseOrThrow(MetricsReport, payload, `${AgentEvents.metricsReport} message`),
      );
      return {};
    });
    this.on(socket, AgentEvents.taskProgress, async ([payload]) => {
      const site = this.helloed(socket);
      const p = parseOrThrow(TaskProgress, payload, `${AgentEvents.taskProgress} message`);
      this.events.emit({
        type: 'task-progress',
        siteId: site.siteId,
        studyId: p.studyId,
        round: p.round,
        epoch: p.epoch,
        epochs: p.epochs,
        step: p.step,
        steps: p.steps,
        loss: p.loss,
      });
      return {};
    });
    this.on(socket, AgentEvents.taskDeclined, async ([payload]) => {
      const site = this.helloed(socket);
      const d = parseOrThrow(TaskDeclined, payload, `${AgentEvents.taskDeclined} message`);
      this.log.warn(
        { site: site.name, studyId: d.studyId, round: d.round, reason: d.reason },
        'task declined',
      );
      // The researcher reads declines (and their reasons) at GET /studies/:id/declines.
      await this.audit.record({
        actor: `site:${site.name}`,
        action: 'task.declined',
        subject: d.studyId,
        details: { round: d.round, kind: d.kind, reason: d.reason },
      });
      this.scheduler.declined(d.studyId, site.siteId, d.kind);
      return {};
    });
    // Issue 18: the fingerprint phase's reports and declines (fingerprint.service.ts checks and stores them).
    this.on(socket, AgentEvents.fingerprintReport, ([payload]) =>
      this.fingerprints.accept(this.helloed(socket), payload),
    );
    this.on(socket, AgentEvents.fingerprintDeclined, ([payload]) =>
      this.fingerprints.declined(this.helloed(socket), payload),
    );
    socket.onAny((event: string, ...args: unknown[]) => {
      if (KNOWN_EVENTS.has(event)) return;
      this.refuse(socket, args, {
        code: 'UNKNOWN_EVENT',
        message: `Unknown event "${event}"; see AgentEvents in @fedseg/protocol.`,
      });
    });
  }

  handleDisconnect(socket: Socket): void {
    const state = socket.data.state as SocketState | undefined;
    if (state?.hello) {
      this.registry.disconnect(state.site.siteId, socket.id);
      this.log.info({ site: state.site.name }, 'site disconnected');
    }
  }

  /** The site behind a socket that said hello (task traffic needs the site to be registered online). */
  private helloed(socket: Socket): AuthenticatedSite {
    const state = socket.data.state as SocketState | undefined;
    if (!state?.hello) throw new SiteNotIdentifiedError();
    return state.site;
  }

  /** Registers a handler whose result becomes `{ ok: true, ...result }` and whose errors become `{ ok: false, error }`. */
  private on(
    socket: Socket,
    event: string,
    handler: (args: unknown[]) => Promise<Record<string, unknown>>,
  ): void {
    socket.on(event, (...raw: unknown[]) => {
      const ack = typeof raw[raw.length - 1] === 'function' ? (raw.pop() as AckFn) : undefined;
      handler(raw).then(
        (result) => ack?.({ ok: true, ...result }),
        (err: unknown) => {
          const error = toErrorBody(err, this.log);
          this.metrics.refused.inc({ code: error.code });
          const site = (socket.data.state as SocketState | undefined)?.site.name;
          this.log.warn({ event, code: error.code, site }, error.message);
          void this.audit.refused({
            actor: site ? `site:${site}` : 'anonymous',
            action: 'agent.message-refused',
            details: { event, code: error.code },
            source: socket.handshake.address,
          });
          if (ack) ack({ ok: false, error });
          else socket.emit(AgentEvents.protocolError, { event, ...error });
        },
      );
    });
  }

  private refuse(socket: Socket, args: unknown[], error: { code: string; message: string }): void {
    this.metrics.refused.inc({ code: error.code });
    const ack = args[args.length - 1];
    if (typeof ack === 'function') (ack as AckFn)({ ok: false, error });
    else socket.emit(AgentEvents.protocolError, error);
  }
}
