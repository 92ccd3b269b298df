import { startTestCoordinator } from '../testing/test-coordinator';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;
type ErrorReply = { error: { code: string; message: string; details?: { fields?: string[] } } };

describe('the studies REST API', () => {
  let coordinator: Coordinator;

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
  });
  afterAll(async () => {
    await coordinator.close();
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${coordinator.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${coordinator.adminToken}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };
  const get = (path: string) =>
    fetch(`${coordinator.url}${path}`, { headers: { authorization: `Bearer ${coordinator.adminToken}` } });

  it('refuses a misspelt key with a 400 that names it, instead of silently dropping it', async () => {
    const res = await post('/studies', { name: 'typo', rounds: 1, trainning: { epochs: 50 } });
    expect(res.status).toBe(400);
    expect((res.body as ErrorReply).error.message).toMatch(/trainning/);
    expect(await coordinator.prisma.study.count({ where: { name: 'typo' } })).toBe(0);
  });

  it('answers 400 naming each invalid field of a study config and stores nothing', async () => {
    const res = await post('/studies', { name: 'liver', rounds: 0, training: { learningRate: -1 } });
    expect(res.status).toBe(400);
    const error = (res.body as ErrorReply).error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.details?.fields).toEqual(expect.arrayContaining(['rounds', 'training.learningRate']));
    expect(error.message).toMatch(/rounds/);
    expect(await coordinator.prisma.study.count()).toBe(0);
    expect(await coordinator.prisma.auditEvent.count({ where: { action: 'study.created' } })).toBe(0);
  });

  it('creates a study with defaults filled, audits it, and serves it back', async () => {
    const res = await post('/studies', { name: 'liver', rounds: 2 });
    expect(res.status).toBe(201);
    const study = res.body as {
      id: string;
      status: string;
      config: { minSites: number; model: { architecture: string } };
    };
    expect(study.status).toBe('draft');
    expect(study.config.model.architecture).toBe('unet3d');
    const row = await coordinator.prisma.study.findUniqueOrThrow({ where: { id: study.id } });
    expect(row.name).toBe('liver');
    expect(
      await coordinator.prisma.auditEvent.count({ where: { action: 'study.created', subject: study.id } }),
    ).toBe(1);
    const got = await get(`/studies/${study.id}`);
    expect(((await got.json()) as { id: string }).id).toBe(study.id);
  });

  it('answers 404 for an unknown study, 400 for a malformed id, and 409 for pausing a draft', async () => {
    const missing = await get('/studies/7f3c0e2a-1111-4222-8333-944455556666');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as ErrorReply).error.code).toBe('STUDY_NOT_FOUND');
    const malformed = await get('/studies/not-an-id');
    expect(malformed.status).toBe(400);
    const created = (await post('/studies', { name: 'draft', rounds: 1 })).body as { id: string };
    const pause = await post(`/studies/${created.id}/pause`, {});
    expect(pause.status).toBe(409);
    expect((pause.body as ErrorReply).error.code).toBe('STUDY_STATE_CONFLICT');
  });

  it('stops a running study for good: completed with the reason, audited, and it cannot start again', async () => {
    const created = (await post('/studies', { name: 'to stop', rounds: 3, siteWaitMs: 60_000 })).body as {
      id: string;
    };
    expect((await post(`/studies/${created.id}/stop`, {})).status).toBe(409); // a draft never ran
    expect((await post(`/studies/${created.id}/start`, {})).status).toBe(200);
    const stopped = await post(`/studies/${created.id}/stop`, {});
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({
      status: 'completed',
      statusReason: 'stopped by a user after 0 of 3 rounds',
    });
    const row = await coordinator.prisma.study.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.status).toBe('completed');
    expect(
      await coordinator.prisma.auditEvent.count({ where: { action: 'study.stopped', subject: created.id } }),
    ).toBe(1);
    const again = await post(`/studies/${created.id}/start`, {});
    expect(again.status).toBe(409);
    expect((again.body as ErrorReply).error.code).toBe('STUDY_STATE_CONFLICT');
  });

  it('answers 400 for a body that is not JSON at all', async () => {
    const res = await fetch(`${coordinator.url}/studies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${coordinator.adminToken}` },
      body: '{nope',
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorReply).error.code).toBe('MALFORMED_JSON');
  });
});
