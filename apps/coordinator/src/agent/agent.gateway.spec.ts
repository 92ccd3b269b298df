import type { Socket } from 'socket.io-client';
import { AgentEvents, generateIdentity } from '@fedseg/protocol';
import { startTestCoordinator } from '../testing/test-coordinator';
import { connectTestSite, enrollTestSite, helloFor, sendWithAck, type TestSite } from '../testing/test-site';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

describe('the /agent gateway', () => {
  let coordinator: Coordinator;
  let site: TestSite;
  let socket: Socket;

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
    site = await enrollTestSite(coordinator.url, coordinator.adminToken, 'site-a');
  });
  afterAll(async () => {
    await coordinator.close();
  });
  beforeEach(async () => {
    socket = await connectTestSite(coordinator.url, site);
  });
  afterEach(() => {
    socket.close();
  });

  const send = (event: string, ...args: unknown[]) => sendWithAck(socket, event, ...args);
  const nextProtocolError = () =>
    new Promise<{ code: string; event?: string }>((resolve) =>
      socket.once(AgentEvents.protocolError, resolve),
    );

  it('refuses a handshake without site credentials before any handler runs, and creates no site', async () => {
    await expect(connectTestSite(coordinator.url, null)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    const stranger = { ...site, keys: generateIdentity() };
    await expect(connectTestSite(coordinator.url, stranger)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(await coordinator.prisma.site.count()).toBe(1);
  });

  it('refuses a hello that fails its schema, naming the field, or that names another site', async () => {
    const reply = await send(AgentEvents.hello, { ...helloFor(site), siteName: 'bad name with spaces' });
    expect(reply.ok).toBe(false);
    expect(reply.error?.code).toBe('VALIDATION_FAILED');
    expect(reply.error?.details?.fields).toContain('siteName');
    const other = await send(AgentEvents.hello, helloFor({ name: 'site-b' }));
    expect(other).toMatchObject({ ok: false, error: { code: 'SITE_MISMATCH' } });
    expect(await coordinator.prisma.site.count()).toBe(1);
  });

  it('refuses an update from a socket that never said hello', async () => {
    const reply = await send(AgentEvents.updateBegin, {});
    expect(reply).toMatchObject({ ok: false, error: { code: 'SITE_NOT_IDENTIFIED' } });
  });

  it('answers a malformed message sent without an ack with an error event, changes nothing and keeps serving', async () => {
    expect((await send(AgentEvents.hello, helloFor(site))).ok).toBe(true);
    const errorEvent = nextProtocolError();
    socket.emit(AgentEvents.updateChunk, { nonce: 'x', index: -1 }, 'not binary');
    const error = await errorEvent;
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', event: AgentEvents.updateChunk });
    expect(await coordinator.prisma.siteUpdate.count()).toBe(0);
    const health = await fetch(`${coordinator.url}/health`);
    expect(health.status).toBe(200);
  });

  it('refuses a chunk without binary bytes, a chunk of no open transfer, and an unknown event', async () => {
    expect((await send(AgentEvents.hello, helloFor(site))).ok).toBe(true);
    const nonce = 'A'.repeat(22) + '==';
    const reply = await send(AgentEvents.updateChunk, { nonce, index: 0 }, [1, 2, 3]);
    expect(reply).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    const orphan = await send(AgentEvents.updateChunk, { nonce, index: 0 }, Buffer.alloc(16));
    expect(orphan).toMatchObject({ ok: false, error: { code: 'TRANSFER_NOT_FOUND' } });
    const unknown = await send('rm -rf', {});
    expect(unknown).toMatchObject({ ok: false, error: { code: 'UNKNOWN_EVENT' } });
    expect(await coordinator.prisma.siteUpdate.count()).toBe(0);
    expect(await coordinator.prisma.site.count()).toBe(1);
  });

  it('serves no model chunk that was not offered to the site, nor one above the chunk cap', async () => {
    expect((await send(AgentEvents.hello, helloFor(site))).ok).toBe(true);
    const sha256 = 'ab'.repeat(32);
    const stranger = await send(AgentEvents.modelChunk, { sha256, index: 0, chunkBytes: 1024 });
    expect(stranger).toMatchObject({ ok: false, error: { code: 'MODEL_NOT_OFFERED' } });
    const huge = await send(AgentEvents.modelChunk, { sha256, index: 0, chunkBytes: 4 * 1024 * 1024 });
    expect(huge).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(huge.error?.details?.fields).toContain('chunkBytes');
    const negative = await send(AgentEvents.modelChunk, { sha256, index: -1, chunkBytes: 1024 });
    expect(negative.error?.details?.fields).toContain('index');
  });
});
