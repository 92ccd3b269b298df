import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

/** Why no tunnel: the line the agent prints, naming the proxy (password hidden) and what to check. */
export class ProxyTunnelError extends Error {
  constructor(
    message: string,
    /** The proxy's HTTP status when it answered CONNECT with a refusal. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ProxyTunnelError';
  }
}

/** The proxy URL as it may be printed: credentials replaced. */
export function redactProxy(proxy: URL): string {
  const user = proxy.username ? `${proxy.username}${proxy.password ? ':***' : ''}@` : '';
  return `${proxy.protocol}//${user}${proxy.host}`;
}

const HINTS: Record<number, string> = {
  407: 'the proxy wants credentials: give them in the proxy URL (http://user:password@proxy:port)',
  403: 'the proxy does not let this host through: ask the network team to allow CONNECT to it',
};

/** The proxy's answer to CONNECT may not exceed this (a status line and a few headers). */
const MAX_REPLY_BYTES = 16 * 1024;

type ConnectOptions = http.ClientRequestArgs &
  tls.ConnectionOptions & { host?: string; port?: number | string };

/**
 * An http.Agent whose every connection is a CONNECT tunnel through an HTTP(S) proxy (RFC 9110 §9.3.6), so the
 * websocket, long-polling requests and the challenge POST all leave the site the one way hospital networks
 * allow. The target's own TLS (https/wss) runs inside the tunnel, end to end; the proxy sees only host:port.
 * keepAlive reuses tunnels for long-polling. The last refusal is kept so the socket's generic "websocket error"
 * can be replaced by what the proxy actually said.
 */
export class ConnectTunnelAgent extends http.Agent {
  private failure: ProxyTunnelError | undefined;
  readonly tunnelsOpened: number[] = [];

  constructor(
    readonly proxy: URL,
    /** Whether the target speaks TLS inside the tunnel (https:, wss:). */
    private readonly targetTls: boolean,
    private readonly connectTimeoutMs: number,
  ) {
    super({ keepAlive: true });
    // http(s).request refuses an agent whose protocol differs from the URL's (ERR_INVALID_PROTOCOL).
    (this as { protocol?: string }).protocol = targetTls ? 'https:' : 'http:';
  }

  /** The refusal seen since the last call, if any (then forgotten). */
  takeFailure(): ProxyTunnelError | undefined {
    const failure = this.failure;
    this.failure = undefined;
    return failure;
  }

  /** Node's Agent waits for `done` when this returns nothing (lib/_http_agent.js createSocket). */
  override createConnection(
    options: ConnectOptions,
    done: (err: Error | null, socket?: Duplex) => void,
  ): undefined {
    const host = (options.host ?? 'localhost').replace(/^\[(.*)\]$/, '$1');
    const port = Number(options.port ?? (this.targetTls ? 443 : 80));
    openTunnel(this.proxy, host, port, this.connectTimeoutMs).then(
      (socket) => {
        this.failure = undefined;
        this.tunnelsOpened.push(Date.now());
        if (!this.targetTls) return done(null, socket);
        const secure = tls.connect({ ...options, socket, servername: net.isIP(host) ? undefined : host });
        secure.once('secureConnect', () => done(null, secure));
        secure.once('error', (err) => done(err));
      },
      (err: ProxyTunnelError) => {
        this.failure = err;
        done(err);
      },
    );
    return undefined;
  }
}

/** Opens a CONNECT tunnel to host:port through the proxy; resolves with the raw tunnel socket. */
export function openTunnel(proxy: URL, host: string, port: number, timeoutMs: number): Promise<Duplex> {
  const shown = redactProxy(proxy);
  const target = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const proxyPort = Number(proxy.port || (proxy.protocol === 'https:' ? 443 : 80));
  const proxyHost = proxy.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    const socket: net.Socket =
      proxy.protocol === 'https:'
        ? tls.connect({
            host: proxyHost,
            port: proxyPort,
            servername: net.isIP(proxyHost) ? undefined : proxyHost,
          })
        : net.connect({ host: proxyHost, port: proxyPort });
    // NATs and proxies drop silent flows; TCP keepalive is a floor under socket.io's own pings.
    socket.setKeepAlive(true, 15_000);
    const fail = (message: string, status?: number) => {
      cleanup();
      socket.destroy();
      reject(new ProxyTunnelError(message, status));
    };
    const timer = setTimeout(
      () => fail(`proxy ${shown} did not answer CONNECT ${target} within ${timeoutMs} ms`),
      timeoutMs,
    );
    const chunks: Buffer[] = [];
    let length = 0;
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        length += chunk.length;
        const head = Buffer.concat(chunks, length);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (length > MAX_REPLY_BYTES) fail(`proxy ${shown} sent an oversized reply to CONNECT ${target}`);
          continue;
        }
        const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
        const match = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(statusLine);
        if (!match)
          return fail(`proxy ${shown} answered CONNECT ${target} with "${statusLine.slice(0, 80)}"`);
        const status = Number(match[1]);
        if (status < 200 || status > 299) {
          const hint = HINTS[status];
          return fail(
            `proxy ${shown} refused CONNECT ${target}: HTTP ${status} ${match[2]}${hint ? ` (${hint})` : ''}`,
            status,
          );
        }
        cleanup();
        const rest = head.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        return resolve(socket);
      }
    };
    const onError = (err: Error) => fail(`cannot reach proxy ${shown}: ${err.message}`);
    const onEnd = () => fail(`proxy ${shown} closed the connection during CONNECT ${target}`);
    function cleanup() {
      clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeListener('error', onError);
      socket.removeListener('end', onEnd);
    }
    socket.on('readable', onReadable);
    socket.once('error', onError);
    socket.once('end', onEnd);
    const auth = proxy.username
      ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}\r\n`
      : '';
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
  });
}
