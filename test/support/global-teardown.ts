/** Stops the embedded PostgreSQL that global-setup.ts started, if it started one. */
export default async function globalTeardown(): Promise<void> {
  const child = globalThis.fedsegEmbeddedPostgres;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, 15_000).unref();
  });
}
