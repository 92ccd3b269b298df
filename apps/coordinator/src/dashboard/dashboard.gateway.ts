import { Inject, type OnModuleDestroy } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection, type OnGatewayInit } from '@nestjs/websockets';
import type { Namespace, Socket } from 'socket.io';
import {
  DASHBOARD_NAMESPACE,
  DashboardAuth,
  DashboardEvents,
  FedsegError,
  parseOrThrow,
  type DashboardClientToServer,
  type DashboardReady,
  type DashboardServerToClient,
} from '@fedseg/protocol';
import { AuditRepository } from '../audit/audit.repository';
import { ForbiddenError, RateLimitedError } from '../auth/auth.errors';
import type { Caller } from '../auth/caller';
import { allows } from '../auth/policy';
import { RateLimiter } from '../auth/rate-limiter';
import { UsersService } from '../auth/users.service';
import { toErrorBody } from '../common/error-body';
import { childLogger } from '../common/logger';
import type { CoordinatorConfig } from '../config/coordinator-config';
import { COORDINATOR_CONFIG } from '../core/tokens';
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
  private readonly failures: RateLimiter;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly users: UsersService,
    private readonly events: RoundEvents,
    private readonly audit: AuditRepository,
    @Inject(COORDINATOR_CONFIG) config: CoordinatorConfig,
  ) {
    this.failures = new RateLimiter(config.authAttemptsPerMinute, 60_000);
  }

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

  private async authenticate(auth: unknown, source: string): Promise<Caller> {
    const wait = this.failures.retryAfter(source);
    if (wait > 0) throw new RateLimitedError(wait);
    let caller: Caller;
    try {
      const { token } = parseOrThrow(DashboardAuth, auth, 'dashboard handshake auth');
      caller = await this.users.authenticate(token);
    } catch (err) {
      this.failures.hit(source);
      await this.audit.refused({
        actor: 'anonymous',
        action: 'dashboard.connect-refused',
        details: { code: err instanceof FedsegError ? err.code : 'INTERNAL' },
        source,
      });
      throw err;
    }
    if (!allows(caller.role, 'study.read'))
      throw new ForbiddenError(`The ${caller.role} role may not watch studies.`, { role: caller.role });
    return caller;
  }
}
