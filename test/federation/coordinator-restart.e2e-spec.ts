import fs from 'node:fs';
import path from 'node:path';
import { generateConsortium } from '@fedseg/imaging';
import type { StudyConfigInput } from '@fedseg/protocol';
import { startFederation, type Federation } from '../support/federation';
import { waitFor } from '../support/http';

/**
 * The coordinator stops in the middle of a study and starts again on the same embedded database and port.
 * The agents (real processes) reconnect on their own; the study resumes where it stopped, and no round
 * counts an update twice.
 */
const SITES = 2;
const ROUNDS = 3;

describe('a coordinator restart in the middle of a study', () => {
  let fed: Federation;

  beforeAll(async () => {
    fed = await startFederation({ postgres: false });
  });
  afterAll(async () => {
    await fed?.close();
  });

  it('resumes the study after the restart and completes every round exactly once', async () => {
    const study: StudyConfigInput = {
      name: 'e2e restart',
      model: { architecture: 'unet3d', numClasses: 3, baseFilters: 2, depth: 2 },
      training: { epochs: 1, batchSize: 2, patchSize: [16, 16, 16], seed: 9 },
      rounds: ROUNDS,
      minSites: SITES,
      roundDeadlineMs: 120_000,
      siteWaitMs: 120_000,
    };
    const { siteDirs } = await generateConsortium({
      outDir: path.join(fed.work, 'sites'),
      sites: SITES,
      casesPerSite: 3,
      shape: [16, 16, 16],
      seed: 4,
    });
    const names = siteDirs.map((_, i) => `restart-${i + 1}`);
    await fed.enroll(names);
    const studyId = await fed.createStudy(study);
    await fed.approve(studyId, names);
    await fed.startStudy(studyId);
    siteDirs.forEach((dataDir, i) => fed.spawn(names[i]!, dataDir, ['--backend', 'cpu']));

    const url = fed.url;
    await waitFor(
      'round 1 to complete',
      async () => {
        const s = (await fed.get(`/studies/${studyId}`)).json as { roundsDone: number };
        return s.roundsDone >= 1 ? true : undefined;
      },
      120_000,
      100,
    );
    await fed.restart();
    expect(fed.coordinator.url).toBe(url);

    const final = await fed.waitForCompletion(studyId, 150_000);
    expect(final.roundsDone).toBe(ROUNDS);

    const prisma = fed.prisma;
    const rounds = await prisma.round.findMany({
      where: { studyId },
      include: { updates: true },
      orderBy: { index: 'asc' },
    });
    expect(rounds.map((r) => [r.index, r.status, r.updates.length])).toEqual([
      [1, 'completed', SITES],
      [2, 'completed', SITES],
      [3, 'completed', SITES],
    ]);
    const checkpoints = await prisma.checkpoint.findMany({
      where: { studyId },
      orderBy: { roundIndex: 'asc' },
    });
    expect(checkpoints.map((c) => c.roundIndex)).toEqual([0, 1, 2, 3]);
    const valDice = await prisma.metric.findMany({
      where: { studyId, split: 'val', name: 'dice', siteId: { not: null } },
    });
    expect(valDice).toHaveLength(ROUNDS * SITES);
    const logs = names.map((n) => fs.readFileSync(path.join(fed.work, 'logs', `${n}.log`), 'utf8'));
    for (const log of logs) expect(log).toMatch(/connection lost/);
  }, 300_000);
});
