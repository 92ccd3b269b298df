import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { generateConsortium } from '@fedseg/imaging';
import { decodeTensors, type StudyConfigInput } from '@fedseg/protocol';
import { startFederation, type Federation } from '../support/federation';

/**
 * Secure aggregation with real agents (child processes), real sockets and PostgreSQL: the coordinator
 * stores only masked updates, yet commits the exact FedAvg of the survivors' deltas, also when a site is
 * killed after the key exchange; with too few survivors the round fails and the model stays as it was.
 * Agents write their unmasked deltas beside the masked ones (--dump-updates, a local testing aid) so this
 * test can recompute FedAvg independently, in float64.
 */
const model = {
  architecture: 'unet3d',
  inChannels: 1,
  numClasses: 3,
  baseFilters: 2,
  depth: 2,
  normalization: 'instance',
} as const;

function studyFor(sites: number, threshold: number, roundDeadlineMs: number): StudyConfigInput {
  return {
    name: `e2e secure aggregation ${sites}/${threshold}`,
    model,
    training: { epochs: 1, batchSize: 2, learningRate: 1e-2, patchSize: [16, 16, 16], seed: 5 },
    secureAggregation: { threshold, phaseDeadlineMs: 60_000 },
    evaluationDeadlineMs: 10_000,
    rounds: 1,
    minSites: threshold,
    roundDeadlineMs,
    siteWaitMs: 120_000,
  };
}

async function consortium(fed: Federation, sites: number) {
  const { siteDirs } = await generateConsortium({
    outDir: path.join(fed.work, 'sites'),
    sites,
    casesPerSite: 4,
    shape: [16, 16, 16],
    seed: 13,
  });
  const names = siteDirs.map((_, i) => `site-${i + 1}`);
  await fed.enroll(names);
  return { siteDirs, names };
}

/** Starts the study once every site is online, so that the first round selects them all. */
async function startWhenOnline(fed: Federation, studyId: string, sites: number) {
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    const listed = (await fed.get('/sites')).json as Array<{ online: boolean }>;
    if (listed.filter((s) => s.online).length >= sites) return fed.startStudy(studyId);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${sites} sites never came online`);
}

/** Polls the round until it reaches `status` (the key exchange is over once it trains). */
async function waitForRoundStatus(fed: Federation, studyId: string, status: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const round = await fed.prisma.round.findFirst({ where: { studyId, index: 1 } });
    if (round?.status === status) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`round 1 never reached ${status}`);
}

/** Chi-square statistic of the byte histogram against uniform (255 degrees of freedom). */
function chiSquare(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (const b of bytes) counts[b]! += 1;
  const expected = bytes.length / 256;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

describe('secure aggregation in a federation (PostgreSQL)', () => {
  let fed: Federation;

  beforeAll(async () => {
    fed = await startFederation({ postgres: true, prefix: 'fedseg-secagg' });
  });

  afterAll(async () => {
    await fed?.close();
  });

  it('refuses at creation a study whose strategy or codec needs individual updates, and creates nothing', async () => {
    const before = await fed.prisma.study.count();
    const refusals: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ strategy: { name: 'median' } }, 'strategy.name', /individual updates/],
      [{ strategy: { name: 'krum' } }, 'strategy.name', /individual updates/],
      [
        { compression: { codec: 'top-k', fraction: 0.1 } },
        'compression.codec',
        /cannot be fp16\/int8\/top-k/,
      ],
      [{ minSites: 2 }, 'minSites', /at least secureAggregation.threshold/],
    ];
    for (const [change, field, message] of refusals) {
      const res = await fed.post('/studies', { ...studyFor(5, 3, 60_000), ...change });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.json)).toContain(field);
      expect(JSON.stringify(res.json)).toMatch(message);
    }
    expect(await fed.prisma.study.count()).toBe(before);
  });

  it("5 sites, 1 killed after the key exchange: the coordinator stores masked bytes and commits the survivors' exact FedAvg", async () => {
    const { siteDirs, names } = await consortium(fed, 5);
    // The deadline bounds the wait for the killed site; 40 s leaves the survivors room on a loaded machine.
    const studyId = await fed.createStudy(studyFor(5, 3, 40_000));
    await fed.approve(studyId, names);
    const dumpDir = path.join(fed.work, 'updates');
    const agents: ChildProcess[] = siteDirs.map((dir, i) =>
      fed.spawn(names[i]!, dir, ['--backend', 'cpu', '--dump-updates', dumpDir, '--val-fraction', '0.25']),
    );
    await startWhenOnline(fed, studyId, 5);
    await waitForRoundStatus(fed, studyId, 'training', 120_000);
    agents[4]!.kill('SIGKILL'); // it shared its keys; its masked update never comes

    const final = await fed.waitForCompletion(studyId, 150_000);
    expect(final.status).toBe('completed');
    const round = await fed.prisma.round.findFirstOrThrow({
      where: { studyId, index: 1 },
      include: { updates: { include: { site: true } } },
    });
    expect(round.status).toBe('completed');
    const messages = await fed.prisma.secAggMessage.findMany({ where: { roundId: round.id } });
    expect(messages.filter((m) => m.phase === 'share')).toHaveLength(5);
    expect(round.updates.map((u) => u.site.name).sort()).toEqual(names.slice(0, 4));

    // What the coordinator holds of each site is masked: one uint32 ring tensor whose bytes look uniform.
    for (const update of round.updates) {
      const stored = fs.readFileSync(path.join(fed.work, 'home', 'blobs', update.storageKey));
      const [tensor] = decodeTensors(new Uint8Array(stored));
      expect(tensor!.name).toBe('update.ring64');
      const bytes = new Uint8Array(tensor!.data.buffer, tensor!.data.byteOffset, tensor!.data.byteLength);
      // P(chi2 > 341 | uniform) ~ 2.6e-4; the plain float32 delta of the same site scores in the thousands.
      expect(chiSquare(bytes)).toBeLessThan(341);
    }

    const sent = names.slice(0, 4).map((name) => {
      const base = path.join(dumpDir, `${studyId}-round-1-${name}`);
      const meta = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as { samples: number };
      const [plain] = decodeTensors(new Uint8Array(fs.readFileSync(`${base}.plain.fstn`)));
      const masked = new Uint8Array(fs.readFileSync(`${base}.fstn`));
      const plainBytes = new Uint8Array(plain!.data.buffer, plain!.data.byteOffset, plain!.data.byteLength);
      expect(chiSquare(plainBytes)).toBeGreaterThan(1_000); // the test above could tell plain from masked
      expect(masked.length).toBeGreaterThan(plainBytes.length);
      return { samples: meta.samples, delta: plain!.data as Float32Array };
    });
    const global0 = await fed.model(studyId, 0);
    const total = sent.reduce((n, s) => n + s.samples, 0);
    const expected = Float64Array.from(global0);
    for (const s of sent)
      for (let i = 0; i < expected.length; i++) expected[i]! += (s.samples / total) * s.delta[i]!;
    const committed = await fed.model(studyId, 1);
    let maxError = 0;
    for (let i = 0; i < expected.length; i++)
      maxError = Math.max(maxError, Math.abs(committed[i]! - expected[i]!));
    // fixed point (2^-33 per site) plus float32 rounding of the committed weights
    expect(maxError).toBeLessThan(1e-6);
  });
});

describe('secure aggregation with too few survivors (PGlite)', () => {
  let fed: Federation;

  beforeAll(async () => {
    fed = await startFederation({ postgres: false, prefix: 'fedseg-secagg-fail' });
  });

  afterAll(async () => {
    await fed?.close();
  });

  it('3 sites, threshold 2, 2 killed after the key exchange: the round is FAILED and the model unchanged', async () => {
    const { siteDirs, names } = await consortium(fed, 3);
    const studyId = await fed.createStudy(studyFor(3, 2, 8_000));
    await fed.approve(studyId, names);
    const agents = siteDirs.map((dir, i) => fed.spawn(names[i]!, dir, ['--backend', 'cpu']));
    await startWhenOnline(fed, studyId, 3);
    await waitForRoundStatus(fed, studyId, 'training', 120_000);
    agents[1]!.kill('SIGKILL');
    agents[2]!.kill('SIGKILL');
    await waitForRoundStatus(fed, studyId, 'failed', 60_000);

    const round = await fed.prisma.round.findFirstOrThrow({ where: { studyId, index: 1 } });
    expect(round.failureReason).toMatch(/secure aggregation, round 1: 1 of 3 site\(s\) sent a masked update/);
    const study = await fed.prisma.study.findUniqueOrThrow({ where: { id: studyId } });
    expect(study.status).toBe('paused');
    const checkpoints = await fed.prisma.checkpoint.findMany({ where: { studyId } });
    expect(checkpoints.map((c) => c.roundIndex)).toEqual([0]);
  });
});
