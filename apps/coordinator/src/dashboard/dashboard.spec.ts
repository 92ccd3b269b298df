import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModulesContainer } from '@nestjs/core';
import { io, type Socket } from 'socket.io-client';
import {
  ApiTokenIssued,
  ApiTokenRevoked,
  ApprovalsReply,
  AuditExport,
  ConnectChallenge,
  DashboardReady,
  EnrollmentTokenIssued,
  EnrollmentTokenList,
  HealthReply,
  UserCreated,
  UserList,
  ErrorReply,
  MetricList,
  RoundEvent,
  RoundSummaryList,
  SiteList,
  StudyList,
  StudyView,
  type DashboardClientToServer,
  type DashboardServerToClient,
} from '@fedseg/protocol';
import { RoundEvents } from '../rounds/round-events';
import { startTestCoordinator } from '../testing/test-coordinator';
import { enrollTestSite, type TestSite } from '../testing/test-site';
import { routeTable } from './route-table';
import type { OpenApiDocument } from './openapi-document';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;
type DashboardClient = Socket<DashboardServerToClient, DashboardClientToServer>;

describe('the dashboard API: reply schemas, OpenAPI document, /dashboard socket', () => {
  let coordinator: Coordinator;
  let site: TestSite;
  let other: TestSite;
  let siteAdminToken: string;
  let studyId: string;
  const sockets: DashboardClient[] = [];

  const call = async (path: string, init: RequestInit = {}, token = coordinator.adminToken) => {
    const res = await fetch(`${coordinator.url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    return { status: res.status, json: (await res.json()) as unknown };
  };

  const connect = (auth: Record<string, unknown> | undefined): DashboardClient => {
    const socket: DashboardClient = io(`${coordinator.url}/dashboard`, {
      auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    sockets.push(socket);
    return socket;
  };

  const refusal = (socket: DashboardClient) =>
    new Promise<string>((resolve, reject) => {
      socket.on('connect', () => reject(new Error('connected without a valid token')));
      socket.on('connect_error', (err) => resolve(err.message));
    });

  const ready = (socket: DashboardClient) =>
    new Promise<DashboardReady>((resolve, reject) => {
      socket.on('dashboard:ready', (r) => resolve(DashboardReady.parse(r)));
      socket.on('connect_error', reject);
    });

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
    site = await enrollTestSite(coordinator.url, coordinator.adminToken, 'dash-site');
    other = await enrollTestSite(coordinator.url, coordinator.adminToken, 'dash-other');
    const user = await call('/users', {
      method: 'POST',
      body: JSON.stringify({ name: 'dash-admin', role: 'site_admin', siteName: site.name }),
    });
    siteAdminToken = (user.json as { token: string }).token;
    const created = await call('/studies', {
      method: 'POST',
      body: JSON.stringify({ name: 'dashboard spec', rounds: 2 }),
    });
    expect(created.status).toBe(201);
    studyId = StudyView.parse(created.json).id;
  }, 120_000); // a coordinator boot and two enrollments: seconds, a minute or more on a loaded shared machine
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await coordinator.close();
  });

  it('answers the routes the dashboard reads with replies its schemas accept', async () => {
    expect(StudyList.parse((await call('/studies')).json).map((s) => s.id)).toEqual([studyId]);
    expect(StudyView.parse((await call(`/studies/${studyId}`)).json).status).toBe('draft');
    expect(ErrorReply.parse((await call('/studies/not-a-uuid')).json).error.code).toBe('VALIDATION_FAILED');
    expect(RoundSummaryList.parse((await call(`/studies/${studyId}/rounds`)).json)).toEqual([]);
    expect(MetricList.parse((await call(`/studies/${studyId}/metrics`)).json)).toEqual([]);
    expect(ApprovalsReply.parse((await call(`/studies/${studyId}/approvals`)).json).approvals).toEqual([]);
    const sites = SiteList.parse((await call('/sites')).json);
    expect(sites.map((s) => [s.name, s.enrolled, s.online]).sort()).toEqual([
      ['dash-other', true, false],
      ['dash-site', true, false],
    ]);
  });

  it('serves an OpenAPI 3.1 document, without a token, naming every route and its reply schema', async () => {
    const res = await fetch(`${coordinator.url}/api/docs`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenApiDocument;
    expect(doc.openapi).toBe('3.1.0');
    const routes = routeTable(coordinator.app.get(ModulesContainer));
    for (const r of routes) {
      const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      expect({ route: `${r.method} ${r.path}`, documented: op !== undefined }).toEqual({
        route: `${r.method} ${r.path}`,
        documented: true,
      });
      expect(op!.security).toEqual(r.isPublic ? [] : [{ bearer: [] }]);
    }
    const studyOp = doc.paths['/studies/{id}']!.get!;
    expect(studyOp['x-fedseg-action']).toBe('study.read');
    const schema = studyOp.responses['200']!.content!['application/json']!.schema;
    expect(schema).toMatchObject({ type: 'object', required: expect.arrayContaining(['id', 'status']) });
    // The full StudyConfig, not the browser's loose record.
    expect(JSON.stringify(schema)).toContain('roundDeadlineMs');
    for (const path of ['/studies', '/studies/{id}/rounds', '/studies/{id}/metrics', '/sites'])
      expect(doc.paths[path]!.get!.responses['200']!.content!['application/json']!.schema).toMatchObject({
        type: 'array',
      });
  });

  it('serves a document that the OpenAPI 3.1 JSON schema accepts (and a broken copy it refuses)', async () => {
    const doc = (await (await fetch(`${coordinator.url}/api/docs`)).json()) as OpenApiDocument;
    // @seriousme/openapi-schema-validator is ESM-only: its CLI runs in a child process, not in jest's sandbox.
    const cli = require.resolve('@seriousme/openapi-schema-validator/bin/validate-api-cli.js');
    const validate = (document: unknown) => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-openapi-')), 'openapi.json');
      fs.writeFileSync(file, JSON.stringify(document));
      // The CLI prints { valid, errors? } and exits 1 when the document is invalid.
      const run = spawnSync(process.execPath, [cli, file], { encoding: 'utf8' });
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      return JSON.parse(run.stdout) as { valid: boolean; errors?: unknown };
    };
    expect(validate(doc)).toEqual({ valid: true });
    const broken = structuredClone(doc);
    delete (broken.info as { title?: string }).title;
    expect(validate(broken).valid).toBe(false);
  });

  it('gives every REST route a reply schema, and the document carries it as the success response', async () => {
    const doc = (await (await fetch(`${coordinator.url}/api/docs`)).json()) as OpenApiDocument;
    for (const r of routeTable(coordinator.app.get(ModulesContainer))) {
      const route = `${r.method} ${r.path}`;
      expect({ route, reply: r.reply !== undefined }).toEqual({ route, reply: true });
      const op = doc.paths[r.path.replace(/:(\w+)/g, '{$1}')]![r.method.toLowerCase()]!;
      const content = op.responses[String(r.status)]!.content!;
      const schema =
        r.reply!.schema === 'binary'
          ? content['application/octet-stream']!.schema
          : content['application/json']!.schema;
      // An empty schema ({}) would accept anything: the route would be documented without its reply.
      expect({ route, schema: Object.keys(schema).length > 0 }).toEqual({ route, schema: true });
      expect(op.summary).not.toBe(route);
    }
  });

  it('answers the user, token, enrollment, audit, health and challenge routes as their schemas say', async () => {
    const post = (path: string, body: unknown = {}) =>
      call(path, { method: 'POST', body: JSON.stringify(body) });
    const created = UserCreated.parse(
      (await post('/users', { name: 'schema-researcher', role: 'researcher' })).json,
    );
    expect(created.user).toMatchObject({ name: 'schema-researcher', role: 'researcher', siteName: null });
    const users = UserList.parse((await call('/users')).json);
    expect(users.map((u) => u.name)).toEqual(
      expect.arrayContaining(['admin', 'dash-admin', 'schema-researcher']),
    );
    const issued = ApiTokenIssued.parse(
      (await post('/users/schema-researcher/tokens', { label: 'ci' })).json,
    );
    const revoked = ApiTokenRevoked.parse((await post(`/tokens/${issued.tokenId}/revoke`)).json);
    expect(revoked.id).toBe(issued.tokenId);
    const token = EnrollmentTokenIssued.parse(
      (await post('/enrollment-tokens', { siteName: 'schema-site' })).json,
    );
    expect(token.siteName).toBe('schema-site');
    const tokens = EnrollmentTokenList.parse((await call('/enrollment-tokens')).json);
    expect(tokens.find((t) => t.siteName === 'schema-site')?.state).toBe('pending');
    const audit = AuditExport.parse((await call('/audit/export')).json);
    expect(audit.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['user.created', 'token.issued', 'token.revoked', 'enrollment.token-issued']),
    );
    const health = HealthReply.parse(await (await fetch(`${coordinator.url}/health`)).json());
    expect(health.ok).toBe(true);
    const challenge = await fetch(`${coordinator.url}/agent/challenge`, { method: 'POST' });
    expect(ConnectChallenge.parse(await challenge.json()).nonce).toHaveLength(44);
  });

  it('refuses a /dashboard handshake without a valid token', async () => {
    expect(await refusal(connect(undefined))).toMatch(/dashboard handshake auth/);
    expect(await refusal(connect({ token: `fsat_${'x'.repeat(43)}` }))).toMatch(/Unknown API token/);
  });

  it('pushes round events live; a site-admin gets study-level figures and its own site only', async () => {
    const admin = connect({ token: coordinator.adminToken });
    const siteAdmin = connect({ token: siteAdminToken });
    expect(await ready(admin)).toEqual({ name: 'admin', role: 'admin', siteId: null });
    expect(await ready(siteAdmin)).toEqual({ name: 'dash-admin', role: 'site_admin', siteId: site.siteId });
    const seen = { admin: [] as RoundEvent[], siteAdmin: [] as RoundEvent[] };
    admin.on('round:event', (e) => seen.admin.push(RoundEvent.parse(e)));
    siteAdmin.on('round:event', (e) => seen.siteAdmin.push(RoundEvent.parse(e)));
    const events = coordinator.app.get(RoundEvents);
    const at = new Date().toISOString();
    events.emit({
      type: 'round-started',
      studyId,
      round: 1,
      siteIds: [site.siteId, other.siteId],
      deadlineAt: at,
    });
    events.emit({
      type: 'metrics-received',
      studyId,
      round: 1,
      siteId: other.siteId,
      metrics: { dice: 0.5 },
    });
    events.emit({ type: 'metrics-received', studyId, round: 1, siteId: site.siteId, metrics: { dice: 0.7 } });
    events.emit({ type: 'round-completed', studyId, round: 1, sites: 2, trainLoss: 0.3, valDice: 0.6 });
    const until = Date.now() + 5_000;
    while ((seen.admin.length < 4 || seen.siteAdmin.length < 3) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    expect(seen.admin.map((e) => e.type)).toEqual([
      'round-started',
      'metrics-received',
      'metrics-received',
      'round-completed',
    ]);
    expect(seen.siteAdmin).toEqual([
      { type: 'round-started', studyId, round: 1, siteIds: [site.siteId], deadlineAt: at },
      { type: 'metrics-received', studyId, round: 1, siteId: site.siteId, metrics: { dice: 0.7 } },
      { type: 'round-completed', studyId, round: 1, sites: 2, trainLoss: 0.3, valDice: 0.6 },
    ]);
  });
});
