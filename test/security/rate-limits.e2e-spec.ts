import { startFederation, type Federation } from '../support/federation';
import { request } from '../support/http';

/** Guessing tokens and flooding connections from one address run into limits, with a clear 429. */
describe('rate limits on authentication and connections', () => {
  let fed: Federation;

  beforeAll(async () => {
    fed = await startFederation({
      postgres: false,
      config: { authAttemptsPerMinute: 5, connectAttemptsPerMinute: 8 },
    });
  });
  afterAll(async () => {
    await fed?.close();
  });

  const code = (r: { json: unknown }) => (r.json as { error: { code: string } }).error.code;

  it('answers 429 after too many failed API-token attempts from one address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await request('GET', `${fed.url}/studies`, `fsat_${String(i).repeat(43)}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const limited = await request('GET', `${fed.url}/studies`, `fsat_${'9'.repeat(43)}`);
    expect([limited.status, code(limited)]).toEqual([429, 'RATE_LIMITED']);
    expect((limited.json as { error: { message: string } }).error.message).toMatch(/retry in \d+ s/);
  });

  it('answers 429 to an enrollment brute force, and to a flood of connection challenges', async () => {
    const enrolls: number[] = [];
    for (let i = 0; i < 6; i++)
      enrolls.push((await request('POST', `${fed.url}/enroll`, undefined, {})).status);
    expect(enrolls.slice(0, 5).every((s) => s === 400)).toBe(true);
    expect(enrolls[5]).toBe(429);
    const challenges: number[] = [];
    for (let i = 0; i < 9; i++) challenges.push((await request('POST', `${fed.url}/agent/challenge`)).status);
    expect(challenges).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
    expect(await fed.prisma.site.count()).toBe(0);
  });
});
