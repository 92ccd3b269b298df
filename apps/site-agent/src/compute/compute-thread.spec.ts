import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateConsortium } from '@fedseg/imaging';
import { SiteFingerprint } from '@fedseg/protocol';
import type { AgentLog } from '../console-log';
import { ComputeThread } from './compute-thread';

/** Every line the thread logs, with its level. */
function recordingLog(): AgentLog & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (l) => lines.push(`info ${l}`),
    warn: (l) => lines.push(`warn ${l}`),
    error: (l) => lines.push(`error ${l}`),
    progress: () => undefined,
  };
}

describe('ComputeThread', () => {
  let root: string;
  let dataDir: string;
  let thread: ComputeThread | undefined;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fedseg-compute-thread-'));
    const { siteDirs } = await generateConsortium({
      outDir: root,
      sites: 1,
      casesPerSite: 4,
      shape: [10, 8, 6],
      seed: 3,
    });
    dataDir = siteDirs[0]!;
  });

  afterEach(async () => {
    delete process.env.FEDSEG_TEST_COMPUTE_EXIT;
    await thread?.close();
    thread = undefined;
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('fails the call in flight when the worker dies, says so, and restarts the worker for the next call', async () => {
    // The first worker exits (code 70) when the fingerprint request arrives; a restarted one does not.
    process.env.FEDSEG_TEST_COMPUTE_EXIT = 'fingerprint';
    const log = recordingLog();
    const started = await ComputeThread.start(
      { data: dataDir, valFraction: 0.25, seed: 1, backend: 'cpu', site: 'site-a' },
      log,
    );
    thread = started.thread;
    expect(started.trainCases).toBe(3);

    // The call rejects with the reason (AgentClient turns it into a declined task), instead of hanging.
    await expect(thread.fingerprint(1024)).rejects.toThrow('the compute thread died (exit code 70)');
    expect(log.lines).toContain(
      'error compute thread: died (exit code 70); 1 task(s) in flight failed and are declined to the ' +
        'coordinator; starting a new compute thread (restart 1), which loads the data again',
    );

    // The next call runs on the new worker, which loaded the data again.
    const fingerprint = SiteFingerprint.parse(await thread.fingerprint(1024));
    expect(fingerprint.cases).toHaveLength(3);
    expect(fingerprint.memoryBudgetMb).toBe(1024);
    expect(thread.restartCount).toBe(1);
    expect(log.lines).toContain('info compute thread: restarted (restart 1); ready for the next task');
  }, 60_000);

  it('does not restart a worker that was closed on purpose', async () => {
    const log = recordingLog();
    thread = (
      await ComputeThread.start(
        { data: dataDir, valFraction: 0.25, seed: 1, backend: 'cpu', site: 'site-a' },
        log,
      )
    ).thread;
    await thread.close();
    await expect(thread.fingerprint()).rejects.toThrow('the compute thread was stopped');
    expect(thread.restartCount).toBe(0);
    expect(log.lines.filter((l) => l.startsWith('error'))).toEqual([]);
  }, 60_000);
});
