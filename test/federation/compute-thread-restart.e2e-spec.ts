import fs from 'node:fs';
import path from 'node:path';
import { generateConsortium } from '@fedseg/imaging';
import type { StudyConfigInput } from '@fedseg/protocol';
import { startFederation, type Federation } from '../support/federation';

/**
 * An agent's compute thread dies in the middle of a task (a crash or out of memory): the agent reports the task
 * as declined with the reason, so the round goes on without waiting for its deadline, restarts the thread, and
 * trains the next round. site-1's first compute thread exits (code 70) when its first training task arrives
 * (FEDSEG_TEST_COMPUTE_EXIT, read only by apps/site-agent/src/compute/compute-worker.ts; a restarted thread
 * ignores it). Two real agent processes, two rounds, real PostgreSQL.
 */
const study: StudyConfigInput = {
  name: 'e2e compute thread restart',
  model: {
    architecture: 'unet3d',
    inChannels: 1,
    numClasses: 3,
    baseFilters: 2,
    depth: 2,
    normalization: 'instance',
  },
  training: { epochs: 1, batchSize: 2, learningRate: 1e-2, patchSize: [16, 16, 16], seed: 3 },
  rounds: 2,
  minSites: 1,
  // Far above the test's own timeout: a round that waited for the dead task would fail the test.
  roundDeadlineMs: 600_000,
  siteWaitMs: 120_000,
};

describe('an agent whose compute thread dies', () => {
  let fed: Federation;

  beforeAll(async () => {
    fed = await startFederation({ postgres: true, prefix: 'fedseg-e2e-restart' });
  });

  afterAll(async () => {
    await fed?.close();
  });

  it('declines the task with the reason, restarts the thread and trains the next round', async () => {
    const { siteDirs } = await generateConsortium({
      outDir: path.join(fed.work, 'sites'),
      sites: 2,
      casesPerSite: 4,
      shape: [16, 16, 16],
      seed: 22,
    });
    const names = ['site-1', 'site-2'];
    await fed.enroll(names);
    const studyId = await fed.createStudy(study);
    await fed.approve(studyId, names);
    fed.spawn('site-1', siteDirs[0]!, ['--backend', 'cpu'], { FEDSEG_TEST_COMPUTE_EXIT: 'train' });
    fed.spawn('site-2', siteDirs[1]!, ['--backend', 'cpu']);
    // Both online before the start, so round 1 selects both (with minSites 1 it could start with one).
    for (let i = 0; ; i++) {
      const listed = (await fed.get('/sites')).json as Array<{ online: boolean }>;
      if (listed.filter((s) => s.online).length >= 2) break;
      if (i > 300) throw new Error('the two sites never came online');
      await new Promise((r) => setTimeout(r, 200));
    }
    await fed.startStudy(studyId);

    const final = await fed.waitForCompletion(studyId, 150_000);
    expect(final.status).toBe('completed');

    // The coordinator heard why site-1 did not train in round 1.
    const [site1, site2] = await Promise.all(
      names.map((name) => fed.prisma.site.findFirstOrThrow({ where: { name } })),
    );
    const declines = await fed.prisma.auditEvent.findMany({
      where: { subject: studyId, action: 'task.declined', actor: 'site:site-1' },
    });
    expect(declines.map((d) => d.details)).toEqual([
      { round: 1, kind: 'train', reason: 'failed: the compute thread died (exit code 70)' },
    ]);

    // Round 1 went on with site-2 alone; in round 2 the restarted thread trained site-1's update.
    const updates = await fed.prisma.siteUpdate.findMany({
      where: { round: { studyId } },
      select: { siteId: true, round: { select: { index: true } } },
    });
    const roundsOf = (siteId: string) =>
      updates
        .filter((u) => u.siteId === siteId)
        .map((u) => u.round.index)
        .sort();
    expect(roundsOf(site1.id)).toEqual([2]);
    expect(roundsOf(site2.id)).toEqual([1, 2]);

    // The site admin reads what happened in the agent's log.
    const log = fs.readFileSync(path.join(fed.work, 'logs', 'site-1.log'), 'utf8');
    expect(log).toMatch(
      /compute thread: died \(exit code 70\); 1 task\(s\) in flight failed and are declined to the coordinator; starting a new compute thread \(restart 1\)/,
    );
    expect(log).toMatch(/compute thread: restarted \(restart 1\); ready for the next task/);
  }, 240_000);
});
