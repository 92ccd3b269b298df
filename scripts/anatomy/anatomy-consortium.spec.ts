import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  caseStats,
  combineFingerprints,
  labelToNativeGrid,
  loadCase,
  loadDataset,
  planFromFingerprint,
  siteFingerprint,
  toPlanGrid,
  type CaseStats,
} from '@fedseg/imaging';
import { ANATOMY_SITES, buildAnatomyConsortium } from './anatomy-consortium';

describe('Colin27 consortium (Debian mricron-data)', () => {
  let outDir: string;
  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'fedseg-anatomy-'));
  });
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  it('builds three sites at their own spacing and intensity scale; fingerprint and plan follow from them', async () => {
    const { siteDirs } = await buildAnatomyConsortium({ outDir, variant: 'tiny', casesPerSite: 2, seed: 3 });
    expect(siteDirs).toHaveLength(3);
    const fingerprints = [];
    const brainMeans: number[] = [];
    for (const [s, dir] of siteDirs.entries()) {
      const dataset = await loadDataset(dir);
      expect(dataset.cases).toHaveLength(2);
      const stats: CaseStats[] = [];
      for (const c of dataset.cases) {
        const { image, label } = await loadCase(dataset, c.id);
        expect(image.spacingMm).toEqual(ANATOMY_SITES.tiny[s]!.spacingMm);
        // Colin27 is 181x217x181 mm; the crop drops at most 24 mm per axis and the zoom is 0.92-1.08, so each
        // axis spans (n - 24) * 0.92 - 3 to n * 1.08 + 3 mm (3: half a voxel of rounding at 6 mm).
        [181, 217, 181].forEach((n, a) => {
          expect(image.shape[a]! * image.spacingMm[a]!).toBeGreaterThan((n - 24) * 0.92 - 3);
          expect(image.shape[a]! * image.spacingMm[a]!).toBeLessThan(n * 1.08 + 3);
        });
        // The brain is a fifth to a third of the head's field of view, whatever the spacing.
        const brain = label.reduce((a, l) => a + l, 0) / label.length;
        expect(brain).toBeGreaterThan(0.15);
        expect(brain).toBeLessThan(0.4);
        stats.push(caseStats(image, label, { numClasses: 2 }));
        // Native -> plan grid (common 5 mm) -> native keeps the brain mask (nearest neighbour both ways).
        const planCase = toPlanGrid(image, label, [5, 5, 5]);
        const back = labelToNativeGrid(planCase.label!, planCase.image.shape, [5, 5, 5], planCase.native);
        let agree = 0;
        back.forEach((l, i) => (agree += l === label[i] ? 1 : 0));
        expect(agree / label.length).toBeGreaterThan(0.9);
      }
      const fp = siteFingerprint(stats, {
        modalities: dataset.modalities.length ? dataset.modalities : ['T1'],
        numClasses: 2,
      });
      brainMeans.push(fp.modalities[0]!.mean);
      fingerprints.push(fp);
    }
    // Intensity scales 1, 12 (+100) and 1/254 show in the foreground means.
    expect(brainMeans[1]! / brainMeans[0]!).toBeGreaterThan(10);
    expect(brainMeans[0]! / brainMeans[2]!).toBeGreaterThan(150);
    const combined = combineFingerprints(fingerprints);
    expect(combined.cases).toBe(6);
    expect(combined.spacingMm.median).toEqual([5, 5, 5]);
    const { plan } = planFromFingerprint(combined);
    expect(plan.targetSpacingMm).toEqual([5, 5, 5]);
    expect(plan.normalization).toEqual([{ scheme: 'zscore' }]);
  }, 60_000);
});
