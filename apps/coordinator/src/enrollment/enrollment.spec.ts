import { EnrollmentTokenList } from '@fedseg/protocol';
import { startTestCoordinator } from '../testing/test-coordinator';
import { enrollTestSite } from '../testing/test-site';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

describe('enrollment tokens over REST', () => {
  let coordinator: Coordinator;

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
  });
  afterAll(async () => {
    await coordinator.close();
  });

  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${coordinator.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${coordinator.adminToken}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('lists issued tokens as pending, used or expired, newest first, and never shows a token again', async () => {
    const issued = await call('POST', '/enrollment-tokens', { siteName: 'pending-site' });
    expect(issued.status).toBe(201);
    const secret = ((await issued.json()) as { token: string }).token;
    await enrollTestSite(coordinator.url, coordinator.adminToken, 'used-site');
    // Expired an hour ago, never used (written directly: the route refuses a ttl below one minute).
    await coordinator.prisma.enrollmentToken.create({
      data: {
        tokenHash: 'e'.repeat(64),
        siteName: 'late-site',
        expiresAt: new Date(Date.now() - 3_600_000),
        createdAt: new Date(Date.now() - 7_200_000),
      },
    });

    const res = await call('GET', '/enrollment-tokens');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(secret);
    expect(text).not.toMatch(/fset_/);
    const list = EnrollmentTokenList.parse(JSON.parse(text));
    expect(list.map((t) => [t.siteName, t.state])).toEqual([
      ['used-site', 'used'],
      ['pending-site', 'pending'],
      ['late-site', 'expired'],
    ]);
    expect(list[0]!.usedAt).not.toBeNull();
    expect(list[1]!.usedAt).toBeNull();
  });
});
