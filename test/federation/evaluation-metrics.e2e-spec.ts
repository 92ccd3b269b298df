import fs from 'node:fs';
import path from 'node:path';
import {
  evaluateSegmentation,
  generateConsortium,
  loadCase,
  loadDataset,
  splitCases,
  summarizeMetrics,
  type ClassMetrics,
} from '@fedseg/imaging';
import type { StudyConfigInput } from '@fedseg/protocol';
import { startFederation, type Federation } from '../support/federation';

/**
 * What the sites report about every global model, checked from the outside: two agents (real processes,
 * cpu backend) write down the label map they predicted for each validation case (`--dump-updates`); this
 * spec reads each case's labels and voxel spacing from the NIfTI files itself, recomputes Dice, HD95 and
 * ASSD per class with @fedseg/imaging, and requires the coordinator to serve exactly those figures per site
 * and round (GET /studies/:id/metrics), plus their sample-weighted mean as the study-level row.
 */
const SITES = 2;
const ROUNDS = 2;
const VAL_FRACTION = 0.25;
const CLASSES = [1, 2];

const study: StudyConfigInput = {
  name: 'e2e evaluation metrics',
  model: {
    architecture: 'unet3d',
    inChannels: 1,
    numClasses: 3,
    baseFilters: 4,
    depth: 2,
    normalization: 'instance',
  },
  // Enough training that round 1's model already predicts both classes in every validation case.
  training: { epochs: 8, batchSize: 2, learningRate: 1e-2, patchSize: [16, 16, 16], seed: 5 },
  rounds: ROUNDS,
  minSites: SITES,
  roundDeadlineMs: 120_000,
  siteWaitMs: 120_000,
};

interface MetricRow {
  roundIndex: number;
  siteId: string | null;
  split: string;
  name: string;
  value: number;
  samples: number | null;
}

describe('evaluation on PGlite', () => {
  let fed: Federation;

  beforeAll(async () => {
    fed = await startFederation({ postgres: false, prefix: 'fedseg-e2e-eval' });
  });

  afterAll(async () => {
    await fed?.close();
  });

  it('serves per-class HD95 and ASSD in mm for every site and round, equal to a recomputation from the predictions', async () => {
    const { siteDirs } = await generateConsortium({
      outDir: path.join(fed.work, 'sites'),
      sites: SITES,
      casesPerSite: 6,
      shape: [16, 16, 16],
      seed: 13,
      // Every case with lesions big enough for a small model to find from round 1: HD95 and ASSD of both
      // classes are then defined everywhere (a class missing from a prediction would make them undefined).
      siteOverrides: Array.from({ length: SITES }, () => ({ lesionRate: 3, lesionSize: 0.5 })),
    });
    const names = siteDirs.map((_, i) => `eval-site-${i + 1}`);
    await fed.enroll(names);
    const studyId = await fed.createStudy(study);
    await fed.approve(studyId, names);
    await fed.startStudy(studyId);
    const dumpDir = path.join(fed.work, 'dumps');
    siteDirs.forEach((dataDir, i) =>
      fed.spawn(names[i]!, dataDir, [
        '--backend',
        'cpu',
        '--dump-updates',
        dumpDir,
        '--val-fraction',
        String(VAL_FRACTION),
      ]),
    );
    expect((await fed.waitForCompletion(studyId, 180_000)).status).toBe('completed');

    const res = await fed.get(`/studies/${studyId}/metrics?split=val`);
    expect(res.status).toBe(200);
    const rows = res.json as MetricRow[];
    const sites = await fed.prisma.site.findMany({ where: { name: { in: names } } });
    const siteId = (name: string): string => sites.find((s) => s.name === name)!.id;

    for (let round = 1; round <= ROUNDS; round++) {
      for (const [s, name] of names.entries()) {
        // The validation split the agent uses (its default seed 0), cases in the order it scores them.
        const dataset = await loadDataset(siteDirs[s]!);
        const valIds = splitCases(dataset, VAL_FRACTION, 0).val;
        const perCase: ClassMetrics[][] = [];
        for (const [i, id] of valIds.entries()) {
          const { image, label } = await loadCase(dataset, id);
          const predicted = fs.readFileSync(
            path.join(dumpDir, `${studyId}-round-${round}-${name}-val-${i}.labels`),
          );
          expect(predicted.length).toBe(label.length);
          perCase.push(evaluateSegmentation(predicted, label, image.shape, image.spacingMm, CLASSES));
        }
        const expected: Record<string, number> = {};
        for (const c of summarizeMetrics(perCase)) {
          expected[`dice_c${c.label}`] = c.dice.mean;
          expected[`hd95_c${c.label}`] = c.hd95Mm.mean;
          expected[`assd_c${c.label}`] = c.assdMm.mean;
        }
        const reported = rows.filter((r) => r.roundIndex === round && r.siteId === siteId(name));
        for (const [metric, value] of Object.entries(expected)) {
          const row = reported.find((r) => r.name === metric);
          expect({ round, site: name, metric, arrived: row !== undefined }).toEqual({
            round,
            site: name,
            metric,
            arrived: true,
          });
          expect(row!.value).toBeCloseTo(value, 9);
          expect(row!.samples).toBe(valIds.length);
        }
        // Averages over the classes, as reported under the plain names.
        for (const metric of ['dice', 'hd95', 'assd'])
          expect(reported.find((r) => r.name === metric)!.value).toBeCloseTo(
            (expected[`${metric}_c1`]! + expected[`${metric}_c2`]!) / 2,
            9,
          );
      }
      // The study-level row of each per-class metric: the mean of the sites' figures weighted by their cases.
      for (const metric of ['hd95_c1', 'hd95_c2', 'assd_c1', 'assd_c2']) {
        const perSite = rows.filter((r) => r.roundIndex === round && r.siteId !== null && r.name === metric);
        expect(perSite).toHaveLength(SITES);
        const total = perSite.reduce((n, r) => n + r.samples!, 0);
        const study = rows.find((r) => r.roundIndex === round && r.siteId === null && r.name === metric);
        expect(study!.value).toBeCloseTo(
          perSite.reduce((sum, r) => sum + (r.value * r.samples!) / total, 0),
          9,
        );
      }
    }
  }, 300_000);
});
