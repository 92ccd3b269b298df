import path from 'node:path';
import { roundsWithinBudget } from '@fedseg/aggregation';
import { generateConsortium } from '@fedseg/imaging';
import { PrivacyConfig, type StudyConfigInput } from '@fedseg/protocol';
import { startFederation, type Federation } from '../support/federation';

/**
 * The study config's strategy, privacy and compression reach both ends: sites clip their int8-compressed
 * deltas, the coordinator runs FedAdam with its moments checkpointed, adds central DP noise, and stops the
 * study cleanly once the epsilon budget would be exceeded.
 */
const SITES = 2;

describe('a FedAdam study with central DP and int8 updates (PGlite)', () => {
  let fed: Federation;

  beforeAll(async () => {
    fed = await startFederation({ postgres: false });
  });

  afterAll(async () => {
    await fed?.close();
  });

  it('stops at the privacy budget with epsilon recorded, checkpointing the optimizer state every round', async () => {
    const privacy = PrivacyConfig.parse({
      mode: 'central',
      clipNorm: 1,
      noiseMultiplier: 4,
      epsilonBudget: 2,
      targetDelta: 1e-5,
    });
    const allowed = roundsWithinBudget(privacy);
    expect(allowed).toBeGreaterThanOrEqual(1);
    expect(allowed).toBeLessThan(5);
    const study: StudyConfigInput = {
      name: 'e2e fedadam dp int8',
      model: { architecture: 'unet3d', numClasses: 3, baseFilters: 2, depth: 2 },
      training: { epochs: 1, batchSize: 2, patchSize: [16, 16, 16], seed: 5 },
      strategy: { name: 'fedadam' },
      privacy,
      compression: { codec: 'int8' },
      rounds: 10,
      minSites: SITES,
      roundDeadlineMs: 120_000,
      siteWaitMs: 120_000,
    };
    const { siteDirs } = await generateConsortium({
      outDir: path.join(fed.work, 'sites'),
      sites: SITES,
      casesPerSite: 3,
      shape: [16, 16, 16],
      seed: 2,
    });
    const names = siteDirs.map((_, i) => `dp-site-${i + 1}`);
    await fed.enroll(names);
    const studyId = await fed.createStudy(study);
    await fed.approve(studyId, names);
    await fed.startStudy(studyId);
    siteDirs.forEach((dataDir, i) => fed.spawn(names[i]!, dataDir, ['--backend', 'cpu']));

    const final = await fed.waitForCompletion(studyId, 200_000);
    expect(final.roundsDone).toBe(allowed);
    expect(final.statusReason).toMatch(/privacy budget spent/);
    expect(final.epsilonSpent).not.toBeNull();
    expect(final.epsilonSpent!).toBeLessThanOrEqual(2);
    expect(final.epsilonSpent!).toBeGreaterThan(0);

    const prisma = fed.prisma;
    const updates = await prisma.siteUpdate.findMany({ where: { round: { studyId } } });
    expect(updates).toHaveLength(allowed * SITES);
    // int8 on the wire: a byte per weight plus a scale per tensor and the manifest (this model is tiny).
    for (const u of updates) expect(u.wireBytes).toBeLessThan(u.bytes / 2);
    const checkpoints = await prisma.checkpoint.findMany({ where: { studyId, roundIndex: { gt: 0 } } });
    expect(checkpoints).toHaveLength(allowed);
    expect(checkpoints.every((c) => c.strategyState !== null)).toBe(true);
  }, 240_000);
});
