import { ModulesContainer } from '@nestjs/core';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import type { UserRole } from '@prisma/client';
import { startTestCoordinator } from '../testing/test-coordinator';
import { enrollTestSite } from '../testing/test-site';
import { ACTION_KEY, PUBLIC_KEY } from './auth.decorators';
import { POLICY, type Action } from './policy';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

interface Route {
  method: string;
  path: string;
  action: Action | undefined;
  isPublic: boolean;
}

/** Every REST route the application registered, read from Nest's own metadata (nothing listed by hand). */
function routesOf(coordinator: Coordinator): Route[] {
  const routes: Route[] = [];
  for (const module of coordinator.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const cls = wrapper.metatype as (new (...args: never[]) => unknown) | null;
      if (!cls) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, cls) ?? '');
      for (const name of Object.getOwnPropertyNames(cls.prototype)) {
        const handler = (cls.prototype as Record<string, unknown>)[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        if (method === undefined) continue;
        const sub = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
        routes.push({
          method: RequestMethod[method]!,
          path: `/${[base, sub].filter((p) => p && p !== '/').join('/')}`.replace(/\/+/g, '/'),
          action: (Reflect.getMetadata(ACTION_KEY, handler) ?? Reflect.getMetadata(ACTION_KEY, cls)) as
            Action | undefined,
          isPublic: Boolean(Reflect.getMetadata(PUBLIC_KEY, handler) ?? Reflect.getMetadata(PUBLIC_KEY, cls)),
        });
      }
    }
  }
  return routes;
}

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
