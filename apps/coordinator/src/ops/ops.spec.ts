import { MetricsText, ReadyReply } from '@fedseg/protocol';
import { RoundEvents } from '../rounds/round-events';
import { startTestCoordinator } from '../testing/test-coordinator';
import { OpsController } from './ops.controller';

describe('GET /ready and GET /metrics', () => {
  let coordinator: Awaited<ReturnType<typeof startTestCoordinator>>;

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
  });

  afterAll(async () => {
    await coordinator?.close();
  });

  const metrics = async (token?: string) =>
    fetch(`${coordinator.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('is ready while the database answers, and says 503 with the reason once shutdown began', async () => {
    const ok = await fetch(`${coordinator.url}/ready`);
    expect(ok.status).toBe(200);
    expect(ReadyReply.parse(await ok.json())).toEqual({
      ready: true,
      checks: { database: true, accepting: true },
    });
    coordinator.app.get(OpsController).onApplicationShutdown();
    const draining = await fetch(`${coordinator.url}/ready`);
    expect(draining.status).toBe(503);
    expect(ReadyReply.parse(await draining.json())).toEqual({
      ready: false,
      checks: { database: true, accepting: false },
    });
  });

  it('serves Prometheus text to an admin only, counting rounds from the round events', async () => {
    expect((await metrics()).status).toBe(401);
    const before = await metrics(coordinator.adminToken);
    expect(before.status).toBe(200);
    expect(before.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    const text = MetricsText.parse(await before.text());
    expect(text).toMatch(/^fedseg_connected_sites 0$/m);
    expect(text).toMatch(/^fedseg_coordinator_process_resident_memory_bytes \d+/m);
    const events = coordinator.app.get(RoundEvents);
    const studyId = '00000000-0000-4000-8000-000000000001';
    events.emit({
      type: 'round-started',
      studyId,
      round: 1,
      siteIds: [],
      deadlineAt: new Date().toISOString(),
    });
    events.emit({ type: 'round-failed', studyId, round: 1, reason: 'test' });
    const after = await (await metrics(coordinator.adminToken)).text();
    expect(after).toMatch(/^fedseg_rounds_started_total 1$/m);
    expect(after).toMatch(/^fedseg_rounds_total\{outcome="failed"\} 1$/m);
    expect(after).toMatch(/^fedseg_round_duration_seconds_count 1$/m);
  });
});
