import { io, type Socket } from 'socket.io-client';
import {
  AgentEvents,
  ConnectChallenge,
  DEFAULT_MODEL_CHUNK_BYTES,
  ModelChunkReply,
  ModelOffer,
  chunkCount,
  EnrollReply,
  connectAuth,
  enrollRequest,
  generateIdentity,
  type Ack,
  type SecretIdentity,
} from '@fedseg/protocol';

/**
 * A site driven from inside a test, with real keys, real REST enrollment and a real authenticated socket:
 * what an honest agent does, step by step, so specs can then misbehave on purpose.
 */
export interface TestSite {
  name: string;
  siteId: string;
  keys: SecretIdentity;
  coordinator: EnrollReply['coordinator'];
}

export async function issueEnrollmentToken(
  url: string,
  adminToken: string,
  siteName: string,
): Promise<string> {
  const res = await fetch(`${url}/enrollment-tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ siteName }),
  });
  if (res.status !== 201) throw new Error(`enrollment token refused: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export async function enrollTestSite(url: string, adminToken: string, name: string): Promise<TestSite> {
  const token = await issueEnrollmentToken(url, adminToken, name);
  const keys = generateIdentity();
  const res = await fetch(`${url}/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(enrollRequest(token, name, keys)),
  });
  if (!res.ok) throw new Error(`enrollment refused: ${res.status} ${await res.text()}`);
  const reply = EnrollReply.parse(await res.json());
  return { name, siteId: reply.siteId, keys, coordinator: reply.coordinator };
}

export async function fetchChallenge(url: string): Promise<string> {
  const res = await fetch(`${url}/agent/challenge`, { method: 'POST' });
  return ConnectChallenge.parse(await res.json()).nonce;
}

/** Connects with the site's credentials (or whatever `auth` a test supplies instead). */
export async function connectTestSite(
  url: string,
  site: TestSite | null,
  options: { auth?: (nonce: string) => unknown; reconnection?: boolean } = {},
): Promise<Socket> {
  const socket = io(`${url}/agent`, {
    transports: ['websocket'],
    reconnection: options.reconnection ?? false,
    auth: (cb: (auth: object) => void) => {
      void fetchChallenge(url).then((nonce) =>
        cb(
          (options.auth?.(nonce) as object | undefined) ??
            (site
              ? connectAuth(
                  { siteId: site.siteId, signingSecretKey: site.keys.signingSecretKey },
                  nonce,
                  site.coordinator.signingPublicKey,
                )
              : {}),
        ),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => {
      socket.close();
      reject(Object.assign(new Error(err.message), { code: err.data?.code }));
    });
  });
  return socket;
}

export type Reply = Ack<Record<string, unknown>> & {
  error?: { code: string; message: string; details?: { fields?: string[] } };
};

export function sendWithAck(socket: Socket, event: string, ...args: unknown[]): Promise<Reply> {
  return socket.timeout(10_000).emitWithAck(event, ...args) as Promise<Reply>;
}

export function helloFor(site: { name: string }) {
  return {
    siteName: site.name,
    agentVersion: 'test',
    backend: { name: 'cpu', skipped: [] },
    maxConcurrentStudies: 2,
    dataSummary: { trainCases: 3, valCases: 1 },
  };
}

/**
 * Pulls the global model a task offers (its second argument), chunk after chunk, into memory, and checks
 * nothing: what a test site then does with the bytes is the test's business.
 */
export async function fetchOfferedModel(
  socket: Socket,
  rawOffer: unknown,
  chunkBytes = DEFAULT_MODEL_CHUNK_BYTES,
): Promise<Uint8Array> {
  const offer = ModelOffer.parse(rawOffer);
  const out = new Uint8Array(offer.bytes);
  for (let index = 0; index < chunkCount(offer.bytes, chunkBytes); index++) {
    const reply = await sendWithAck(socket, AgentEvents.modelChunk, {
      sha256: offer.sha256,
      index,
      chunkBytes,
    });
    if (!reply.ok)
      throw new Error(`model chunk ${index} refused: ${reply.error.code} ${reply.error.message}`);
    out.set(ModelChunkReply.parse(reply).bytes, index * chunkBytes);
  }
  return out;
}

export { AgentEvents };
