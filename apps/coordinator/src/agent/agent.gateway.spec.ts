import { io, type Socket } from 'socket.io-client';
import { AgentEvents } from '@fedseg/protocol';
import { startTestCoordinator } from '../testing/test-coordinator';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;
type Reply = {
  ok: boolean;
  error?: { code: string; message: string; details?: { fields?: string[] } };
  siteId?: string;
};

const hello = {
  siteName: 'site-a',
  agentVersion: 'test',
  backend: { name: 'cpu', skipped: [] },
  maxConcurrentStudies: 1,
  dataSummary: { trainCases: 3, valCases: 1 },
};

describe('the /agent gateway', () => {
  let coordinator: Coordinator;
  let socket: Socket;

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
  });
  afterAll(async () => {
    await coordinator.close();
  });
  beforeEach(async () => {
    socket = io(`${coordinator.url}/agent`, { transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
  });
  afterEach(() => {
    socket.close();
  });

  const send = (event: string, ...args: unknown[]) =>
    socket.timeout(5_000).emitWithAck(event, ...args) as Promise<Reply>;
  const nextProtocolError = () =>
    new Promise<{ code: string; event?: string }>((resolve) =>
      socket.once(AgentEvents.protocolError, resolve),
    );

  it('refuses a hello that fails its schema, naming the field, and admits no site', async () => {
    const reply = await send(AgentEvents.hello, { ...hello, siteName: 'bad name with spaces' });
    expect(reply.ok).toBe(false);
    expect(reply.error?.code).toBe('VALIDATION_FAILED');
    expect(reply.error?.details?.fields).toContain('siteName');
    expect(await coordinator.prisma.site.count()).toBe(0);
  });

  it('refuses an update from a socket that never said hello', async () => {
    const reply = await send(AgentEvents.updateSubmit, {}, Buffer.alloc(8));
    expect(reply).toMatchObject({ ok: false, error: { code: 'SITE_NOT_IDENTIFIED' } });
  });

  it('answers a malformed message sent without an ack with an error event, changes nothing and keeps serving', async () => {
    expect((await send(AgentEvents.hello, hello)).ok).toBe(true);
    const errorEvent = nextProtocolError();
    socket.emit(AgentEvents.updateSubmit, { studyId: 'not-a-uuid', round: -1 }, 'not binary');
    const error = await errorEvent;
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', event: AgentEvents.updateSubmit });
    expect(await coordinator.prisma.siteUpdate.count()).toBe(0);
    const health = await fetch(`${coordinator.url}/health`);
    expect(health.status).toBe(200);
  });

  it('refuses an update whose weights are not a binary attachment, and an unknown event', async () => {
    expect((await send(AgentEvents.hello, hello)).ok).toBe(true);
    const meta = {
      taskId: '8f0c3c4e-8d9b-4c1a-9c55-0a1b2c3d4e5f',
      studyId: '8f0c3c4e-8d9b-4c1a-9c55-0a1b2c3d4e5f',
      round: 1,
      samples: 3,
      sha256: 'a'.repeat(64),
      trainLoss: 0.5,
      steps: 2,
    };
    const reply = await send(AgentEvents.updateSubmit, meta, [1, 2, 3]);
    expect(reply).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    const unknown = await send('rm -rf', {});
    expect(unknown).toMatchObject({ ok: false, error: { code: 'UNKNOWN_EVENT' } });
    const noStudy = await send(AgentEvents.updateSubmit, meta, Buffer.alloc(16));
    expect(noStudy).toMatchObject({ ok: false, error: { code: 'STUDY_NOT_FOUND' } });
    expect(await coordinator.prisma.siteUpdate.count()).toBe(0);
    expect(await coordinator.prisma.site.count()).toBe(1);
  });
});
