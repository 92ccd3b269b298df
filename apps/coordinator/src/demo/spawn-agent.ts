import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');

/** Starts `fedseg-agent run` as a real child process (the demo and end-to-end tests use it). */
export function spawnAgent(options: {
  coordinatorUrl: string;
  site: string;
  dataDir: string;
  logFile?: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
}): ChildProcess {
  const args = [
    path.join(REPO_ROOT, 'scripts', 'run-ts.js'),
    path.join(REPO_ROOT, 'apps', 'site-agent', 'src', 'main.ts'),
    'run',
    '--coordinator',
    options.coordinatorUrl,
    '--site',
    options.site,
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
