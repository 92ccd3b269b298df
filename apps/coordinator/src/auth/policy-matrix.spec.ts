import { ModulesContainer } from '@nestjs/core';
import type { UserRoleName as UserRole } from '@fedseg/protocol';
import { startTestCoordinator } from '../testing/test-coordinator';
import { enrollTestSite } from '../testing/test-site';
import { routeTable } from '../dashboard/route-table';
import { POLICY, type Action } from './policy';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

/** Every REST route the application registered, read from Nest's own metadata (nothing listed by hand). */
const routesOf = (coordinator: Coordinator) => routeTable(coordinator.app.get(ModulesContainer));

describe('the role x action matrix', () => {
  let coordinator: Coordinator;
  const tokens: Partial<Record<UserRole, string>> = {};

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
    tokens.admin = coordinator.adminToken;
    const site = await enrollTestSite(coordinator.url, coordinator.adminToken, 'matrix-site');
    for (const [role, extra] of [
      ['researcher', {}],
      ['site_admin', { siteName: site.name }],
    ] as const) {
      const res = await fetch(`${coordinator.url}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${coordinator.adminToken}` },
        body: JSON.stringify({ name: `matrix-${role}`, role, ...extra }),
      });
      tokens[role] = ((await res.json()) as { token: string }).token;
    }
  });
  afterAll(async () => {
    await coordinator.close();
  });

  it('gives every route exactly one policy action or marks it public, and uses every action', () => {
    const routes = routesOf(coordinator);
    expect(routes.length).toBeGreaterThanOrEqual(20);
    for (const r of routes)
      expect({ route: `${r.method} ${r.path}`, covered: r.isPublic !== (r.action !== undefined) }).toEqual({
        route: `${r.method} ${r.path}`,
        covered: true,
      });
    const used = new Set(routes.map((r) => r.action).filter(Boolean));
    expect([...Object.keys(POLICY)].filter((a) => !used.has(a as Action))).toEqual([]);
  });

  it('answers every route, for every role and for no token, as the policy table says', async () => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const r of routesOf(coordinator)) {
      // Ids that exist nowhere: an allowed call then fails later (400/404) and changes nothing.
      const url =
        coordinator.url +
        r.path.replace(/:id/g, '00000000-0000-4000-8000-000000000000').replace(/:name/g, 'nobody');
      for (const role of [undefined, 'admin', 'researcher', 'site_admin'] as const) {
        const token = role ? tokens[role] : undefined;
        const res = await fetch(url, {
          method: r.method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(r.method === 'GET' ? {} : { 'content-type': 'application/json' }),
          },
          body: r.method === 'GET' ? undefined : '{}',
        });
        const label = `${r.method} ${r.path} as ${role ?? 'nobody'}`;
        const verdict = res.status === 401 ? 'unauthenticated' : res.status === 403 ? 'forbidden' : 'allowed';
        outcomes.push(`${label}: ${verdict}`);
        const should = r.isPublic
          ? 'allowed'
          : role === undefined
            ? 'unauthenticated'
            : (POLICY[r.action!] as readonly string[]).includes(role)
              ? 'allowed'
              : 'forbidden';
        expected.push(`${label}: ${should}`);
      }
    }
    expect(outcomes).toEqual(expected);
    // And nothing was created by walking the matrix.
    expect(await coordinator.prisma.study.count()).toBe(0);
    expect(await coordinator.prisma.site.count()).toBe(1);
  });
});
