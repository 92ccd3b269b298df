import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');

const AGENT_MAIN = [
  path.join(REPO_ROOT, 'scripts', 'run-ts.js'),
  path.join(REPO_ROOT, 'apps', 'site-agent', 'src', 'main.ts'),
];

/** Runs one `fedseg-agent` verb (enroll, approve, check-data) as a child process and collects its output. */
export function runAgentCommand(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...AGENT_MAIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Starts `fedseg-agent run` for an enrolled site (its identity under `home`) as a real child process. */
export function spawnAgent(options: {
  coordinatorUrl: string;
  site: string;
  home: string;
  dataDir: string;
  logFile?: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
}): ChildProcess {
  const args = [
    ...AGENT_MAIN,
    'run',
    '--coordinator',
    options.coordinatorUrl,
    '--site',
    options.site,
    '--home',
    options.home,
    '--data',
    options.dataDir,
    '--plain',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (options.logFile) {
    fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
    const out = fs.createWriteStream(options.logFile);
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
  }
  return child;
}

export async function stopAgent(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}
