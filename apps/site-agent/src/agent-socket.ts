import http from 'node:http';
import https from 'node:https';
import { io, type Socket } from 'socket.io-client';
import { ConnectChallenge, connectAuth, type ConnectAuth } from '@fedseg/protocol';
import type { ProxySettings } from './agent-options';
import type { AgentIdentityFile } from './identity-store';
import { coordinatorRoute, parseProxySettings, type CoordinatorRoute } from './proxy-route';

/** What the socket needs from the site's identity: who it is, its signing key, the coordinator key it pinned. */
export type SocketIdentity = Pick<AgentIdentityFile, 'siteId' | 'keys' | 'coordinator'>;

const CHALLENGE_TIMEOUT_MS = 20_000;

/**
 * An authenticated socket to the coordinator's /agent namespace. socket.io calls `auth` before every connect
 * and reconnect: each time the agent fetches a fresh single-use challenge and signs it with the site key,
 * bound to its site id and to the coordinator key it pinned. Nothing secret goes into the URL.
 *
 * Outbound only, through the site's proxy when one is set (HTTPS_PROXY/HTTP_PROXY/NO_PROXY or `--proxy`): the
 * websocket, the long-polling fallback and the challenge request all go through the same CONNECT tunnel agent.
 * A websocket that cannot open (a proxy that inspects and blocks upgrades) falls back to HTTP long-polling.
 * Reconnects back off from 1 s doubling to 30 s with +-50% jitter, so a hundred sites dropped at once do not
 * come back in lockstep.
 */
export function agentSocket(
  identity: SocketIdentity,
  coordinatorUrl: string,
  proxy: ProxySettings = parseProxySettings(process.env),
): Socket {
  const route = coordinatorRoute(coordinatorUrl, proxy);
  const socket = io(`${route.base}/agent`, {
    reconnection: true,
    reconnectionDelay: 1_000,
    reconnectionDelayMax: 30_000,
    randomizationFactor: 0.5,
    autoConnect: false,
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
    // engine.io-client types `agent` as string | boolean (its browser heritage); in Node it is handed as is to
    // ws and to xmlhttprequest-ssl's http.request.
    ...(route.agent ? { agent: route.agent as unknown as string } : {}),
    auth: (cb: (auth: ConnectAuth | Record<string, never>) => void) => {
      fetchChallenge(route).then(
        (challenge) =>
          cb(
            connectAuth(
              { siteId: identity.siteId, signingSecretKey: identity.keys.signingSecretKey },
              challenge.nonce,
              identity.coordinator.signingPublicKey,
            ),
          ),
        // The handshake then fails with a clear refusal and socket.io retries with backoff.
        () => cb({}),
      );
    },
  });
  if (route.agent) {
    const agent = route.agent;
    // Registered before any caller's listener: a refused tunnel surfaces from socket.io as a bare
    // "websocket error" / "xhr poll error"; what the proxy said is the line a site admin needs.
    socket.on('connect_error', (err: Error) => {
      const refusal = agent.takeFailure();
      if (refusal) err.message = refusal.message;
    });
  }
  return socket;
}

/** The route's one-line description, for the agent's start-up echo. */
export function describeRoute(coordinatorUrl: string, proxy: ProxySettings): string {
  return coordinatorRoute(coordinatorUrl, proxy).description;
}

/** POST /agent/challenge over node:http(s), so it takes the same route (tunnel) as the socket. */
export async function fetchChallenge(route: CoordinatorRoute): Promise<ConnectChallenge> {
  const url = new URL(`${route.base}/agent/challenge`);
  const request = url.protocol === 'https:' ? https.request : http.request;
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', agent: route.agent, timeout: CHALLENGE_TIMEOUT_MS, headers: { 'content-length': 0 } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no challenge within ${CHALLENGE_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
  if (status < 200 || status > 299) throw new Error(`challenge refused: HTTP ${status}`);
  return ConnectChallenge.parse(JSON.parse(body));
}

/** Resolves once connected; rejects with the coordinator's reason when the handshake is refused. */
export function connected(socket: Socket, timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection after ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      clearTimeout(timer);
      reject(new Error(`${err.message}${err.data?.code ? ` (${err.data.code})` : ''}`));
    });
    socket.connect();
  });
}
