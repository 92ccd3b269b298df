import { IoAdapter } from '@nestjs/platform-socket.io';
import type { INestApplicationContext } from '@nestjs/common';
import type { Server, ServerOptions } from 'socket.io';

/** socket.io with a message limit large enough for an encoded model update (1 MB by default otherwise). */
export class CoordinatorIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly maxMessageBytes: number,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    return super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: this.maxMessageBytes,
      pingTimeout: 60_000,
    }) as Server;
  }
}
