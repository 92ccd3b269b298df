import { IoAdapter } from '@nestjs/platform-socket.io';
import type { INestApplicationContext } from '@nestjs/common';
import type { Server, ServerOptions } from 'socket.io';

/**
 * socket.io with a small per-message cap (updates travel in sealed chunks below it; a bigger frame closes only
 * its own socket), connection-state recovery, whose reconnects still pass the handshake middleware, and the
 * configured heartbeat (CoordinatorConfig.pingIntervalMs: what keeps idle proxies and NATs from dropping agents).
 */
export class CoordinatorIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly maxMessageBytes: number,
    private readonly heartbeat: { pingIntervalMs: number; pingTimeoutMs: number },
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    return super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: this.maxMessageBytes,
      pingInterval: this.heartbeat.pingIntervalMs,
      pingTimeout: this.heartbeat.pingTimeoutMs,
      connectionStateRecovery: { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: false },
    }) as Server;
  }
}
