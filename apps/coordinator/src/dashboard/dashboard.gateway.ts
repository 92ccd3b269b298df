import type { OnModuleDestroy } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection, type OnGatewayInit } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import {
  DASHBOARD_NAMESPACE,
  DashboardAuth,
  DashboardEvents,
  parseOrThrow,
  type DashboardClientToServer,
  type DashboardReady,
  type DashboardServerToClient,
} from '@fedseg/protocol';
import type { Caller } from '../auth/caller';
import { CallerAuthorizer } from '../auth/caller-authorizer';
import { toErrorBody } from '../common/error-body';
import { childLogger } from '../common/logger';
import { RoundEvents } from '../rounds/round-events';
import { eventViewFor } from './event-view';

type DashboardSocket = Socket<
  DashboardClientToServer,
  DashboardServerToClient,
  Record<string, never>,
  { caller?: Caller }
>;
type DashboardNamespace = Namespace<
  DashboardClientToServer,
  DashboardServerToClient,
  Record<string, never>,
  { caller?: Caller }
>;

/**
 * The /dashboard namespace: browsers watch studies live. The handshake carries an API token in `auth`
 * (never in the URL, which lands in logs); the caller needs the `study.read` action. Every round event is
 * then pushed to each socket as its caller may see it (eventViewFor). Failed handshakes count against the
 * address like failed REST authentications, and are audited.
 */
@WebSocketGateway({ namespace: DASHBOARD_NAMESPACE })
export class DashboardGateway implements OnGatewayInit, OnGatewayConnection, OnModuleDestroy {
  private readonly log = childLogger('dashboard-gateway');
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly authorizer: CallerAuthorizer,
    private readonly events: RoundEvents,
  ) {}

  afterInit(nsp: DashboardNamespace): void {
    nsp.use((socket, next) => {
      const source = socket.handshake.address;
      this.authenticate(socket.handshake.auth, source).then(
        (caller) => {
          socket.data.caller = caller;
          next();
        },
        (err: unknown) => {
          const body = toErrorBody(err, this.log);
          this.log.warn({ source, code: body.code }, `dashboard connection refused: ${body.message}`);
          next(Object.assign(new Error(body.message), { data: body }));
        },
      );
    });
    this.unsubscribe = this.events.subscribe((event) => {
      for (const socket of nsp.sockets.values()) {
        const caller = socket.data.caller;
        const view = caller ? eventViewFor(caller, event) : null;
        if (view) socket.emit(DashboardEvents.roundEvent, view);
      }
    });
  }

  handleConnection(socket: DashboardSocket): void {
    const caller = socket.data.caller;
    if (!caller) {
      socket.disconnect(true); // cannot happen: the middleware admits only authenticated sockets
      return;
    }
    const ready: DashboardReady = { name: caller.name, role: caller.role, siteId: caller.siteId };
    socket.emit(DashboardEvents.ready, ready);
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** The caller needs the `study.read` action; failed tokens count with REST's against the address. */
  private authenticate(auth: unknown, source: string): Promise<Caller> {
    return this.authorizer.authorize(
      () => parseOrThrow(DashboardAuth, auth, 'dashboard handshake auth').token,
      'study.read',
      { source, where: DASHBOARD_NAMESPACE, refusedAs: 'dashboard.connect-refused' },
    );
  }
}
