import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { PrismaClient } from '@prisma/client';
import { openDatabase, resolveDatabaseTarget, type OpenDatabase } from '@fedseg/coordinator';
import { federationClient, type FederationClient } from './federation';
import { createTestDatabase } from './postgres';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const COORDINATOR_MAIN = [
  path.join(REPO_ROOT, 'scripts', 'run-ts.js'),
  path.join(REPO_ROOT, 'apps', 'coordinator', 'src', 'main.ts'),
];

export interface CoordinatorStart {
  /** FEDSEG_FAULT_KILL_AT for this process: it SIGKILLs itself at that fault point. */
  faultKillAt?: string;
  /** Reach PostgreSQL through this address instead of the server's own (a TcpProxy in front of it, say). */
  databaseVia?: { host: string; port: number };
}

/**
 * A federation whose coordinator is a child process (`npm run coordinator`), so a test can SIGKILL it by pid
 * and start it again on the same database, home and port. Everything else is FederationClient's: agents as
 * child processes, enrollment and approval through the real CLI. The test reads the database through its own
 * connection.
 */
export interface ChildFederation extends FederationClient {
  /** The running coordinator process; null between a kill and the next start. */
  readonly coordinator: ChildProcess | null;
  /** The coordinator's home (blob store under blobs/) and its database. */
  homeDir: string;
  databaseUrl: string;
  prisma: PrismaClient;
  /** Starts a coordinator (there must be none running) and waits until it answers /ready. */
  start(options?: CoordinatorStart): Promise<void>;
  /** SIGKILL by pid; resolves once it is gone. */
  kill(): Promise<void>;
  /** Resolves when the running coordinator exits by itself (a fault point), with its signal; rejects after timeoutMs. */
  exited(timeoutMs?: number): Promise<NodeJS.Signals | number | null>;
  /** Kills the coordinator if running, waits pauseMs, starts it again. */
  restart(options?: CoordinatorStart & { pauseMs?: number }): Promise<void>;
  /** Every coordinator start's log, in order (stdout and stderr). */
  coordinatorLog(): string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function via(url: string, address: { host: string; port: number }): string {
  const u = new URL(url);
  u.hostname = address.host;
  u.port = String(address.port);
  return u.toString();
}

export async function startChildFederation(
  options: {
    prefix?: string;
    /** The first start's options; later starts take their own. */
    first?: CoordinatorStart;
    logLevel?: string;
  } = {},
): Promise<ChildFederation> {
  const prefix = options.prefix ?? 'fedseg-faults';
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const db = await createTestDatabase(prefix.replace(/-/g, '_'));
  const homeDir = path.join(work, 'home');
  const logFile = path.join(work, 'logs', 'coordinator.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let current: ChildProcess | null = null;
  let exit: Promise<NodeJS.Signals | number | null> = Promise.resolve(null);

  const start = async (opts: CoordinatorStart = {}) => {
    if (current) throw new Error('a coordinator is already running');
    fs.appendFileSync(logFile, `--- start ${JSON.stringify(opts)}\n`);
    const child = spawn(process.execPath, COORDINATOR_MAIN, {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        FEDSEG_HOME: homeDir,
        DATABASE_URL: opts.databaseVia ? via(db.url, opts.databaseVia) : db.url,
        LOG_LEVEL: options.logLevel ?? 'warn',
        FEDSEG_FAULT_KILL_AT: opts.faultKillAt ?? '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = fs.createWriteStream(logFile, { flags: 'a' });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    current = child;
    exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (current === child) current = null;
        resolve(signal ?? code);
      }),
    );
    const until = Date.now() + 120_000;
    for (;;) {
      if (current !== child)
        throw new Error(`the coordinator exited while starting (${await exit}); see ${logFile}`);
      const ready = await fetch(`${url}/ready`)
        .then((r) => r.status === 200)
        .catch(() => false);
      if (ready) return;
      if (Date.now() > until)
        throw new Error(`the coordinator did not answer /ready in 120 s; see ${logFile}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  const kill = async () => {
    const child = current;
    if (!child) return;
    process.kill(child.pid!, 'SIGKILL');
    await exit;
  };

  await start(options.first);
  const adminToken = fs.readFileSync(path.join(homeDir, 'admin.token'), 'utf8').trim();
  // The test's own connection; the coordinator migrated the schema at its first start.
  const database: OpenDatabase = await openDatabase(resolveDatabaseTarget(db.url, homeDir));

  const fed: ChildFederation = {
    ...federationClient(url, adminToken, work),
    get coordinator() {
      return current;
    },
    homeDir,
    databaseUrl: db.url,
    prisma: database.prisma,
    start,
    kill,
    exited: (timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the coordinator did not exit within ${timeoutMs} ms; see ${logFile}`)),
          timeoutMs,
        );
        void exit.then((how) => {
          clearTimeout(timer);
          resolve(how);
        });
      }),
    async restart({ pauseMs = 1_000, ...next } = {}) {
      await kill();
      await new Promise((r) => setTimeout(r, pauseMs));
      await start(next);
    },
    coordinatorLog: () => fs.readFileSync(logFile, 'utf8'),
    async close() {
      await fed.stopAgents();
      await kill();
      await database.close();
      await db.drop();
      if (process.env.FEDSEG_KEEP_E2E) console.log(`kept ${work}`);
      else fs.rmSync(work, { recursive: true, force: true });
    },
  };
  return fed;
}
