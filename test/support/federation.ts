import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { PrismaClient } from '@prisma/client';
import {
  CoordinatorConfig,
  DATABASE,
  approveStudy,
  enrollSites,
  spawnAgent,
  startCoordinator,
  stopAgent,
  type OpenDatabase,
  type RunningCoordinator,
} from '@fedseg/coordinator';
import { decodeWeights } from '@fedseg/protocol';
import { createTestDatabase } from './postgres';
import { getJson, postJson, waitForStudyCompletion, type StudyView } from './http';

/**
 * What every end-to-end federation offers once a coordinator answers at `url`, wherever that coordinator runs
 * (in this process: startFederation; as a child process that can be killed: child-federation.ts): REST as the
 * admin, and helpers that enroll and approve sites through the real `fedseg-agent` CLI and run agents as
 * child processes.
 */
export interface FederationClient {
  url: string;
  adminToken: string;
  work: string;
  post(pathname: string, body: unknown, token?: string): Promise<{ status: number; json: unknown }>;
  get(pathname: string, token?: string): Promise<{ status: number; json: unknown }>;
  /** Creates a study as the admin and returns its id (not started). */
  createStudy(input: unknown): Promise<string>;
  startStudy(studyId: string): Promise<void>;
  /** Issues enrollment tokens and runs `fedseg-agent enroll` per site; returns each site's agent home. */
  enroll(sites: readonly string[]): Promise<Record<string, string>>;
  /** Runs `fedseg-agent approve --yes` for each site. */
  approve(studyId: string, sites: readonly string[]): Promise<void>;
  spawn(site: string, dataDir: string, extraArgs?: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  waitForCompletion(studyId: string, timeoutMs: number): Promise<StudyView>;
  /** The committed global model of a round (GET /studies/:id/model), checked to be that round's. */
  model(studyId: string, round: number): Promise<Float32Array>;
  /** Where a site's agent writes its log (each spawn of the site appends to it). */
  logOf(site: string): string;
  /** Stops every agent spawned so far (SIGTERM, then SIGKILL). */
  stopAgents(): Promise<void>;
}

/** The one setup every end-to-end federation shares: a coordinator in this process (fresh PostgreSQL database
 * or a temporary PGlite one) and its bootstrap admin token, with the FederationClient helpers. */
export interface Federation extends FederationClient {
  coordinator: RunningCoordinator;
  prisma: PrismaClient;
  /** Stops and starts the coordinator on the same database, home and port. */
  restart(pauseMs?: number): Promise<void>;
  close(): Promise<void>;
}

export function federationClient(url: string, adminToken: string, work: string): FederationClient {
  const homes: Record<string, string> = {};
  const agents: ChildProcess[] = [];
  const logOf = (site: string) => path.join(work, 'logs', `${site}.log`);
  const client: FederationClient = {
    url,
    adminToken,
    work,
    post: (p, body, token = adminToken) => postJson(`${url}${p}`, body, token),
    get: (p, token = adminToken) => getJson(`${url}${p}`, token),
    async createStudy(input) {
      const created = await client.post('/studies', input);
      if (created.status !== 201) throw new Error(`study refused: ${JSON.stringify(created.json)}`);
      return (created.json as { id: string }).id;
    },
    async startStudy(studyId) {
      const started = await client.post(`/studies/${studyId}/start`, {});
      if (started.status !== 200) throw new Error(`start refused: ${JSON.stringify(started.json)}`);
    },
    async enroll(sites) {
      const homeOf = (site: string) => path.join(work, 'agents', site);
      await enrollSites({ url, adminToken, sites, homeOf });
      for (const site of sites) homes[site] = homeOf(site);
      return { ...homes };
    },
    async approve(studyId, sites) {
      await approveStudy({ studyId, sites, homeOf: (site) => homes[site]! });
    },
    spawn(site, dataDir, extraArgs = [], env) {
      const child = spawnAgent({
        coordinatorUrl: url,
        site,
        home: homes[site]!,
        dataDir,
        extraArgs,
        env,
      });
      // Appended, not truncated: a site's agent restarted after a kill keeps its earlier lines (acks included).
      fs.mkdirSync(path.dirname(logOf(site)), { recursive: true });
      const log = fs.createWriteStream(logOf(site), { flags: 'a' });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      agents.push(child);
      return child;
    },
    waitForCompletion: (studyId, timeoutMs) => waitForStudyCompletion(url, studyId, timeoutMs, adminToken),
    async model(studyId, round) {
      const res = await fetch(`${url}/studies/${studyId}/model?round=${round}`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      if (res.status !== 200 || res.headers.get('x-fedseg-round') !== String(round))
        throw new Error(
          `model of round ${round}: HTTP ${res.status}, round ${res.headers.get('x-fedseg-round')}`,
        );
      return decodeWeights(new Uint8Array(await res.arrayBuffer())).data;
    },
    logOf,
    stopAgents: async () => {
      await Promise.all(agents.map((a) => stopAgent(a)));
    },
  };
  return client;
}

export async function startFederation(options: {
  postgres: boolean;
  prefix?: string;
  config?: Record<string, unknown>;
}): Promise<Federation> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `${options.prefix ?? 'fedseg-e2e'}-`));
  const db = options.postgres
    ? await createTestDatabase((options.prefix ?? 'fedseg_e2e').replace(/-/g, '_'))
    : undefined;
  const config = (port: number) =>
    CoordinatorConfig.parse({
      port,
      host: '127.0.0.1',
      homeDir: path.join(work, 'home'),
      databaseUrl: db?.url,
      logLevel: 'error',
      ...options.config,
    });
  let coordinator = await startCoordinator(config(0));
  const url = coordinator.url;
  const adminToken =
    coordinator.bootstrapAdminToken ?? fs.readFileSync(path.join(work, 'home', 'admin.token'), 'utf8').trim();
  const fed: Federation = {
    ...federationClient(url, adminToken, work),
    coordinator,
    get prisma() {
      return fed.coordinator.app.get<OpenDatabase>(DATABASE).prisma;
    },
    async restart(pauseMs = 1_500) {
      const port = Number(new URL(url).port);
      await fed.coordinator.close();
      await new Promise((r) => setTimeout(r, pauseMs)); // agents see the connection drop and back off
      coordinator = await startCoordinator(config(port));
      fed.coordinator = coordinator;
    },
    async close() {
      await fed.stopAgents();
      await fed.coordinator.close();
      await db?.drop();
      if (process.env.FEDSEG_KEEP_E2E) console.log(`kept ${work}`);
      else fs.rmSync(work, { recursive: true, force: true });
    },
  };
  return fed;
}
