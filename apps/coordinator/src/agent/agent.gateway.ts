import { WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { z } from 'zod';
import {
  AgentEvents,
  AgentHello,
  MetricsReport,
  TaskDeclined,
  TaskProgress,
  UpdateSubmit,
  parseOrThrow,
  type Ack,
  type Task,
} from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import { SiteNotIdentifiedError } from '../common/errors';
import { toErrorBody } from '../common/error-body';
import { childLogger } from '../common/logger';
import { RoundEvents } from '../rounds/round-events';
import { RoundSchedulerService } from '../rounds/round-scheduler.service';
import { UpdatesService, type SubmittingSite } from '../rounds/updates.service';
import { SiteRegistry } from '../sites/site-registry.service';
import { SitesRepository } from '../sites/sites.repository';

type AckFn = (reply: Ack<Record<string, unknown>>) => void;

const Binary = z.instanceof(Uint8Array, { message: 'expected a binary attachment' });
const KNOWN_EVENTS = new Set<string>(Object.values(AgentEvents));

/**
 * The /agent namespace. Every payload is parsed before use; a refused message gets an error (in its ack,
 * or as a protocol:error event when it came without one), changes nothing and never takes the process down.
 */
@WebSocketGateway({ namespace: '/agent' })
export class AgentGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly log = childLogger('agent-gateway');

  constructor(
    private readonly sites: SitesRepository,
    private readonly registry: SiteRegistry,
    private readonly updates: UpdatesService,
    private readonly scheduler: RoundSchedulerService,
    private readonly events: RoundEvents,
    private readonly audit: AuditRepository,
  ) {}

  handleConnection(socket: Socket): void {
    this.on(socket, AgentEvents.hello, async ([payload]) => {
      const hello = parseOrThrow(AgentHello, payload, `${AgentEvents.hello} message`);
      const site = await this.sites.upsertOnHello(hello);
      socket.data.site = { siteId: site.id, name: site.name } satisfies SubmittingSite;
      await this.audit.record({
        actor: `site:${site.name}`,
        action: 'site.connected',
        details: { backend: hello.backend.name },
      });
      this.registry.connect(site.id, hello, {
        connectionId: socket.id,
        sendTask: (task: Task, weights: Uint8Array) =>
          socket.emit(
            AgentEvents.task,
            task,
            Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength),
          ),
      });
      this.log.info(
        { site: site.name, backend: hello.backend.name, adapter: hello.backend.adapter },
        'site connected',
      );
      return { siteId: site.id };
    });
    this.on(socket, AgentEvents.updateSubmit, async ([payload, blob]) => {
      const site = this.siteOf(socket);
      const meta = parseOrThrow(UpdateSubmit, payload, `${AgentEvents.updateSubmit} message`);
      const bytes = parseOrThrow(Binary, blob, `${AgentEvents.updateSubmit} weights`);
      return this.updates.submitUpdate(site, meta, bytes);
    });
    this.on(socket, AgentEvents.metricsReport, async ([payload]) => {
      const site = this.siteOf(socket);
      await this.updates.reportMetrics(
        site,
        parseOrThrow(MetricsReport, payload, `${AgentEvents.metricsReport} message`),
      );
      return {};
    });
    this.on(socket, AgentEvents.taskProgress, async ([payload]) => {
      const site = this.siteOf(socket);
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
      const site = this.siteOf(socket);
      const d = parseOrThrow(TaskDeclined, payload, `${AgentEvents.taskDeclined} message`);
      this.log.warn(
        { site: site.name, studyId: d.studyId, round: d.round, reason: d.reason },
        'task declined',
      );
      this.scheduler.declined(d.studyId, site.siteId, d.kind);
      return {};
    });
    socket.onAny((event: string, ...args: unknown[]) => {
      if (KNOWN_EVENTS.has(event)) return;
      this.refuse(socket, args, {
        code: 'UNKNOWN_EVENT',
        message: `Unknown event "${event}"; see AgentEvents in @fedseg/protocol.`,
      });
    });
  }

  handleDisconnect(socket: Socket): void {
    const site = socket.data.site as SubmittingSite | undefined;
    if (site) {
      this.registry.disconnect(site.siteId, socket.id);
      this.log.info({ site: site.name }, 'site disconnected');
    }
  }

  private siteOf(socket: Socket): SubmittingSite {
    const site = socket.data.site as SubmittingSite | undefined;
    if (!site) throw new SiteNotIdentifiedError();
    return site;
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
          this.log.warn(
            { event, code: error.code, site: (socket.data.site as SubmittingSite | undefined)?.name },
            error.message,
          );
          if (ack) ack({ ok: false, error });
          else socket.emit(AgentEvents.protocolError, { event, ...error });
        },
      );
    });
  }

  private refuse(socket: Socket, args: unknown[], error: { code: string; message: string }): void {
    const ack = args[args.length - 1];
    if (typeof ack === 'function') (ack as AckFn)({ ok: false, error });
    else socket.emit(AgentEvents.protocolError, error);
  }
}
