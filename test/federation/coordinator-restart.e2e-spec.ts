import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { generateConsortium } from '@fedseg/imaging';
import type { StudyConfigInput } from '@fedseg/protocol';
import {
  startCoordinator,
  CoordinatorConfig,
  DATABASE,
  spawnAgent,
  stopAgent,
  type OpenDatabase,
  type RunningCoordinator,
} from '@fedseg/coordinator';
import { getJson, postJson, waitFor, waitForStudyCompletion } from '../support/http';

/**
 * The coordinator stops in the middle of a study and starts again on the same embedded database and port.
 * The agents (real processes) reconnect on their own; the study resumes where it stopped, and no round
 * counts an update twice.
 */
const SITES = 2;
const ROUNDS = 3;

describe('a coordinator restart in the middle of a study', () => {
  let work: string;
  let coordinator: RunningCoordinator | undefined;
  let agents: ChildProcess[] = [];

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-e2e-'));
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => stopAgent(a)));
    await coordinator?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('resumes the study after the restart and completes every round exactly once', async () => {
    const home = path.join(work, 'home');
    const config = (port: number) =>
      CoordinatorConfig.parse({ port, host: '127.0.0.1', homeDir: home, logLevel: 'warn' });
    coordinator = await startCoordinator(config(0));
    const port = Number(new URL(coordinator.url).port);

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
      outDir: path.join(work, 'sites'),
      sites: SITES,
      casesPerSite: 3,
      shape: [16, 16, 16],
      seed: 4,
    });
    const studyId = ((await postJson(`${coordinator.url}/studies`, study)).json as { id: string }).id;
    await postJson(`${coordinator.url}/studies/${studyId}/start`, {});
    agents = siteDirs.map((dataDir, i) =>
      spawnAgent({
        coordinatorUrl: coordinator!.url,
        site: `restart-${i + 1}`,
        dataDir,
        logFile: path.join(work, `agent-${i + 1}.log`),
        extraArgs: ['--backend', 'cpu'],
      }),
    );

    const url = coordinator.url;
    await waitFor(
      'round 1 to complete',
      async () => {
        const s = (await getJson(`${url}/studies/${studyId}`)).json as { roundsDone: number };
        return s.roundsDone >= 1 ? true : undefined;
      },
      120_000,
      100,
    );
    await coordinator.close();
    coordinator = undefined;
    await new Promise((r) => setTimeout(r, 1_500)); // agents see the connection drop and start backing off
    coordinator = await startCoordinator(config(port));
    expect(coordinator.url).toBe(url);

    const final = await waitForStudyCompletion(url, studyId, 150_000);
    expect(final.roundsDone).toBe(ROUNDS);

    const prisma = coordinator.app.get<OpenDatabase>(DATABASE).prisma;
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
    const logs = siteDirs.map((_, i) => fs.readFileSync(path.join(work, `agent-${i + 1}.log`), 'utf8'));
    for (const log of logs) expect(log).toMatch(/connection lost/);
  }, 300_000);
});
