import net from 'node:net';

/** One CONNECT request the proxy answered, and how. */
export interface TunnelRecord {
  target: string;
  status: number;
  at: number;
  /** The tunnel was cut because its first request asked for a websocket upgrade (blockWebsocket). */
  upgradeBlocked?: boolean;
}

export interface ConnectProxy {
  url: string;
  port: number;
  tunnels: TunnelRecord[];
  idleCuts: TunnelRecord[];
  /** Ends every open tunnel on the agent side only; returns how many. */
  cutClients(): number;
  close(): Promise<void>;
}

/**
 * A small HTTP CONNECT forward proxy on loopback, as a hospital's egress proxy behaves (RFC 9110 §9.3.6):
 * - `hosts` is the proxy's own name resolution: the test gives the agent a coordinator host name that only the
 *   proxy resolves, so the direct route fails and only the tunnel works. Unknown names get 502.
 * - `refuse` answers every CONNECT with that status (407 wants credentials, 403 forbids the destination).
 * - `blockWebsocket` cuts a tunnel whose first request asks for a websocket upgrade, as inspecting proxies do to
 *   plain-HTTP websockets; HTTP requests in the tunnel (long-polling) pass.
 * - `cutClients()` drops every open tunnel on the agents' side only: each agent sees its connection end, while
 *   the coordinator's side stays open and silent (half-open, as after a NAT or proxy restart) until the
 *   coordinator's heartbeat gives up on it.
 * - `idleTimeoutMs` cuts a tunnel with no bytes either way for that long, as proxies and NATs drop idle flows
 *   (the cut is recorded in `idleCuts`).
 */
export async function startConnectProxy(
  options: {
    hosts?: Record<string, string>;
    refuse?: { status: number; reason: string };
    blockWebsocket?: boolean;
    idleTimeoutMs?: number;
  } = {},
): Promise<ConnectProxy> {
  const tunnels: TunnelRecord[] = [];
  const idleCuts: TunnelRecord[] = [];
  const open = new Set<net.Socket>();
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; halfOpen: boolean }>();
  const server = net.createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16 * 1024) client.destroy();
        return;
      }
      client.removeListener('data', onData);
      client.pause();
      const [method, target] = head.subarray(0, head.indexOf('\r\n')).toString('latin1').split(' ');
      const reply = (status: number, reason: string) => {
        tunnels.push({ target: target ?? '', status, at: Date.now() });
        client.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\n\r\n`);
      };
      if (method !== 'CONNECT' || !target) return reply(405, 'Method Not Allowed');
      if (options.refuse) return reply(options.refuse.status, options.refuse.reason);
      const colon = target.lastIndexOf(':');
      const host = target.slice(0, colon);
      const address = options.hosts?.[host];
      if (!address) return reply(502, 'Bad Gateway');
      const upstream = net.connect({ host: address, port: Number(target.slice(colon + 1)) });
      const pair = { client, upstream, halfOpen: false };
      pairs.add(pair);
      open.add(upstream);
      upstream.on('close', () => {
        open.delete(upstream);
        pairs.delete(pair);
      });
      upstream.once('error', () => {
        upstream.destroy();
        client.destroy();
      });
      upstream.once('connect', () => {
        const record: TunnelRecord = { target, status: 200, at: Date.now() };
        tunnels.push(record);
        if (options.idleTimeoutMs) {
          client.setTimeout(options.idleTimeoutMs);
          upstream.setTimeout(options.idleTimeoutMs);
          // Either side idle is not enough: a flow is idle only when neither direction moved.
          let lastByteAt = Date.now();
          const touch = () => (lastByteAt = Date.now());
          client.on('data', touch);
          upstream.on('data', touch);
          const onIdle = () => {
            if (Date.now() - lastByteAt < options.idleTimeoutMs!) return;
            idleCuts.push({ ...record, at: Date.now() });
            client.destroy();
            upstream.destroy();
          };
          client.on('timeout', onIdle);
          upstream.on('timeout', onIdle);
        }
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        const rest = head.subarray(end + 4);
        if (rest.length > 0) upstream.write(rest);
        if (!options.blockWebsocket) {
          client.pipe(upstream).pipe(client);
          client.resume();
          return;
        }
        client.once('data', (first: Buffer) => {
          if (/^upgrade:\s*websocket/im.test(first.toString('latin1'))) {
            record.upgradeBlocked = true;
            client.destroy();
            upstream.destroy();
            return;
          }
          upstream.write(first);
          client.pipe(upstream).pipe(client);
        });
        client.resume();
      });
      client.on('close', () => {
        if (!pair.halfOpen) upstream.destroy();
      });
      upstream.on('close', () => client.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    tunnels,
    idleCuts,
    cutClients() {
      let cut = 0;
      for (const pair of pairs) {
        if (pair.halfOpen || pair.client.destroyed) continue;
        pair.halfOpen = true;
        pair.client.unpipe(pair.upstream);
        pair.upstream.unpipe(pair.client);
        pair.client.destroy();
        pair.upstream.resume(); // the coordinator's pings now go nowhere, unanswered
        cut++;
      }
      return cut;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
