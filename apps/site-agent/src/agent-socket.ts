import { io, type Socket } from 'socket.io-client';
import { ConnectChallenge, connectAuth, type ConnectAuth } from '@fedseg/protocol';
import type { AgentIdentityFile } from './identity-store';

/**
 * An authenticated socket to the coordinator's /agent namespace. socket.io calls `auth` before every connect
 * and reconnect: each time the agent fetches a fresh single-use challenge and signs it with the site key,
 * bound to its site id and to the coordinator key it pinned. Nothing secret goes into the URL.
 */
export function agentSocket(identity: AgentIdentityFile, coordinatorUrl: string): Socket {
  const base = coordinatorUrl.replace(/\/$/, '');
  return io(`${base}/agent`, {
    reconnection: true,
    reconnectionDelay: 1_000,
    reconnectionDelayMax: 30_000,
    randomizationFactor: 0.5,
    autoConnect: false,
    transports: ['websocket'],
    auth: (cb: (auth: ConnectAuth | Record<string, never>) => void) => {
      fetchChallenge(base).then(
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
}

export async function fetchChallenge(base: string): Promise<ConnectChallenge> {
  const res = await fetch(`${base}/agent/challenge`, { method: 'POST' });
  if (!res.ok) throw new Error(`challenge refused: HTTP ${res.status}`);
  return ConnectChallenge.parse(await res.json());
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
