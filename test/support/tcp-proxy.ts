import net from 'node:net';

/**
 * A loopback TCP relay the fault suite puts between two real parts (an agent and the coordinator, the
 * coordinator and PostgreSQL) to break the network between them without touching either: `cut()` resets
 * every open connection and every new one until `restore()`; `throttle()` slows the client-to-server
 * direction so an upload lasts long enough to be interrupted.
 */
export interface TcpProxy {
  port: number;
  /** Bytes relayed client -> server since the proxy started. */
  readonly bytesUp: number;
  cut(): void;
  restore(): void;
  /** Client -> server bytes per second; null for full speed. */
  throttle(bytesPerSecond: number | null): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let cut = false;
  let rate: number | null = null;
  let bytesUp = 0;
  const server = net.createServer((client) => {
    if (cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      bytesUp += chunk.length;
      upstream.write(chunk);
      if (rate !== null) {
        client.pause();
        setTimeout(() => client.resume(), (chunk.length / rate) * 1000);
      }
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get bytesUp() {
      return bytesUp;
    },
    cut() {
      cut = true;
      // A socket still connecting cannot send a reset; destroying it is the same refusal.
      for (const socket of open)
        if (socket.readyState === 'open') socket.resetAndDestroy();
        else socket.destroy();
      open.clear();
    },
    restore() {
      cut = false;
    },
    throttle(bytesPerSecond) {
      rate = bytesPerSecond;
    },
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
