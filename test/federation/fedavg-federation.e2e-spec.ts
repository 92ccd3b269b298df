import fs from 'node:fs';
import path from 'node:path';
import { generateConsortium } from '@fedseg/imaging';
import { decodeTensors, type StudyConfigInput } from '@fedseg/protocol';
import { startFederation, type Federation } from '../support/federation';

/**
 * A whole federation: the coordinator in this process, three enrolled agents as real child processes over
 * real, authenticated socket.io, updates sealed end to end, on PostgreSQL and on PGlite. After the study,
 * every committed checkpoint is compared with a sample-weighted average of the updates the agents wrote down,
 * computed here in float64. Agents send deltas from the global model (uncompressed: one float32 tensor), so
 * a site's weights are global + delta.
 */
const SITES = 3;
const ROUNDS = 2;

const study: StudyConfigInput = {
  name: 'e2e fedavg',
  model: {
    architecture: 'unet3d',
    inChannels: 1,
    numClasses: 3,
    baseFilters: 2,
    depth: 2,
    normalization: 'instance',
  },
  training: { epochs: 1, batchSize: 2, learningRate: 1e-2, patchSize: [16, 16, 16], seed: 3 },
  rounds: ROUNDS,
  minSites: SITES,
  roundDeadlineMs: 120_000,
  siteWaitMs: 120_000,
};

describe.each([
  ['PostgreSQL', true],
  ['PGlite', false],
])('a FedAvg federation on %s', (_label, usePostgres) => {
  let fed: Federation;

  beforeAll(async () => {
    fed = await startFederation({ postgres: usePostgres });
  });

  afterAll(async () => {
    await fed?.close();
  });

  it('commits every round as the exact sample-weighted mean of the updates the agents sent, and records it', async () => {
    const work = fed.work;
    const { siteDirs } = await generateConsortium({
      outDir: path.join(work, 'sites'),
      sites: SITES,
      casesPerSite: 4,
      shape: [16, 16, 16],
      seed: 11,
    });
    const names = siteDirs.map((_, i) => `site-${i + 1}`);
    await fed.enroll(names);
    const studyId = await fed.createStudy(study);
    await fed.approve(studyId, names);
    await fed.startStudy(studyId);

    const dumpDir = path.join(work, 'updates');
    siteDirs.forEach((dataDir, i) =>
      fed.spawn(names[i]!, dataDir, [
        '--backend',
        'cpu',
        '--dump-updates',
        dumpDir,
        '--val-fraction',
        '0.25',
      ]),
    );

    const final = await fed.waitForCompletion(studyId, 150_000);
    expect(final.status).toBe('completed');

    for (let round = 1; round <= ROUNDS; round++) {
      const previous = await fed.model(studyId, round - 1);
      const sent = fs
        .readdirSync(dumpDir)
        .filter((f) => f.startsWith(`${studyId}-round-${round}-`) && f.endsWith('.json'))
        .map((f) => {
          const meta = JSON.parse(fs.readFileSync(path.join(dumpDir, f), 'utf8')) as { samples: number };
          const blob = fs.readFileSync(path.join(dumpDir, f.replace(/\.json$/, '.fstn')));
          const [tensor] = decodeTensors(new Uint8Array(blob));
          expect(tensor!.name).toBe('update.f32');
          return { samples: meta.samples, delta: tensor!.data as Float32Array };
        });
      expect(sent).toHaveLength(SITES);
      // Independent FedAvg in float64: sum_k n_k (global + delta_k) / sum_k n_k.
      const total = sent.reduce((n, s) => n + s.samples, 0);
      const expected = Float64Array.from(previous);
      for (const s of sent)
        for (let i = 0; i < expected.length; i++) expected[i]! += (s.samples / total) * s.delta[i]!;

      const committed = await fed.model(studyId, round);
      expect(committed.length).toBe(expected.length);
      let maxError = 0;
      for (let i = 0; i < expected.length; i++)
        maxError = Math.max(maxError, Math.abs(committed[i]! - expected[i]!));
      expect(maxError).toBeLessThan(1e-6);
    }

    // The database remembers everything (read through the coordinator's own connection: PGlite is in-process).
    const prisma = fed.prisma;
    const rounds = await prisma.round.findMany({
      where: { studyId },
      include: { updates: true },
      orderBy: { index: 'asc' },
    });
    expect(rounds.map((r) => [r.index, r.status, r.selectedSiteIds.length])).toEqual([
      [1, 'completed', SITES],
      [2, 'completed', SITES],
    ]);
    for (const r of rounds) {
      expect(r.updates).toHaveLength(SITES);
      expect(
        r.updates.every(
          (u) => u.status === 'aggregated' && u.samples === 3 && /^[0-9a-f]{64}$/.test(u.sha256),
        ),
      ).toBe(true);
    }
    const checkpoints = await prisma.checkpoint.findMany({
      where: { studyId },
      orderBy: { roundIndex: 'asc' },
    });
    expect(checkpoints.map((c) => c.roundIndex)).toEqual([0, 1, 2]);
    // one row per site per round, plus the study-level aggregate of each round
    const valDice = await prisma.metric.findMany({ where: { studyId, split: 'val', name: 'dice' } });
    expect(valDice).toHaveLength(ROUNDS * (SITES + 1));
    expect(valDice.every((m) => m.value >= 0 && m.value <= 1)).toBe(true);
    const trainLoss = await prisma.metric.findMany({ where: { studyId, split: 'train', name: 'loss' } });
    expect(trainLoss).toHaveLength(ROUNDS * (SITES + 1));
    const summary = (await fed.get(`/studies/${studyId}/rounds`)).json as Array<{
      valDice: number | null;
      trainLoss: number | null;
    }>;
    expect(summary.every((r) => r.valDice !== null && r.trainLoss !== null)).toBe(true);
  }, 240_000);
});
