import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { generateConsortium } from '@fedseg/imaging';
import { decodeTensors, decodeWeights, type StudyConfigInput } from '@fedseg/protocol';
import {
  startCoordinator,
  CoordinatorConfig,
  DATABASE,
  spawnAgent,
  stopAgent,
  type OpenDatabase,
  type RunningCoordinator,
} from '@fedseg/coordinator';
import { createTestDatabase } from '../support/postgres';
import { getJson, postJson, waitForStudyCompletion } from '../support/http';

/**
 * A whole federation: the coordinator in this process, three agents as real child processes over real
 * socket.io, on PostgreSQL and on PGlite. After the study, every committed checkpoint is compared with a
 * sample-weighted average of the updates the agents wrote down, computed here in float64. Agents send
 * deltas from the global model (uncompressed: one float32 tensor), so a site's weights are global + delta.
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
  let work: string;
  let coordinator: RunningCoordinator;
  let agents: ChildProcess[] = [];
  let dropDatabase: (() => Promise<void>) | undefined;
  let databaseUrl: string | undefined;

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-e2e-'));
    if (usePostgres) {
      const db = await createTestDatabase('fedseg_e2e');
      databaseUrl = db.url;
      dropDatabase = db.drop;
    }
    coordinator = await startCoordinator(
      CoordinatorConfig.parse({
        port: 0,
        host: '127.0.0.1',
        homeDir: path.join(work, 'home'),
        databaseUrl,
        logLevel: 'warn',
      }),
    );
  });

  afterAll(async () => {
    await Promise.all(agents.map((a) => stopAgent(a)));
    await coordinator?.close();
    await dropDatabase?.();
    if (process.env.FEDSEG_KEEP_E2E) console.log(`kept ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  });

  it('commits every round as the exact sample-weighted mean of the updates the agents sent, and records it', async () => {
    const { siteDirs } = await generateConsortium({
      outDir: path.join(work, 'sites'),
      sites: SITES,
      casesPerSite: 4,
      shape: [16, 16, 16],
      seed: 11,
    });
    const created = await postJson(`${coordinator.url}/studies`, study);
    expect(created.status).toBe(201);
    const studyId = (created.json as { id: string }).id;
    expect((await postJson(`${coordinator.url}/studies/${studyId}/start`, {})).status).toBe(200);

    const dumpDir = path.join(work, 'updates');
    agents = siteDirs.map((dataDir, i) =>
      spawnAgent({
        coordinatorUrl: coordinator.url,
        site: `site-${i + 1}`,
        dataDir,
        logFile: path.join(work, `agent-${i + 1}.log`),
        extraArgs: ['--backend', 'cpu', '--dump-updates', dumpDir, '--val-fraction', '0.25'],
      }),
    );

    const final = await waitForStudyCompletion(coordinator.url, studyId, 150_000);
    expect(final.status).toBe('completed');

    const checkpoint = async (round: number) => {
      const res = await fetch(`${coordinator.url}/studies/${studyId}/model?round=${round}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-fedseg-round')).toBe(String(round));
      return decodeWeights(new Uint8Array(await res.arrayBuffer())).data;
    };
    for (let round = 1; round <= ROUNDS; round++) {
      const previous = await checkpoint(round - 1);
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

      const committed = await checkpoint(round);
      expect(committed.length).toBe(expected.length);
      let maxError = 0;
      for (let i = 0; i < expected.length; i++)
        maxError = Math.max(maxError, Math.abs(committed[i]! - expected[i]!));
      expect(maxError).toBeLessThan(1e-6);
    }

    // The database remembers everything (read through the coordinator's own connection: PGlite is in-process).
    const prisma = coordinator.app.get<OpenDatabase>(DATABASE).prisma;
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
    const summary = (await getJson(`${coordinator.url}/studies/${studyId}/rounds`)).json as Array<{
      valDice: number | null;
      trainLoss: number | null;
    }>;
    expect(summary.every((r) => r.valDice !== null && r.trainLoss !== null)).toBe(true);
  }, 240_000);
});
