import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateConsortium, loadCase, loadDataset, splitCases } from '@fedseg/imaging';
import type { DataPlan, TrainingConfig } from '@fedseg/protocol';
import { loadSiteData } from './site-data';

const plan: DataPlan = {
  targetSpacingMm: [2, 2, 2],
  patchSize: [8, 8, 8],
  batchSize: 2,
  depth: 2,
  baseFilters: 4,
  normalization: [{ scheme: 'zscore' }],
  foregroundOversampling: 1,
};
const training = { patchSize: [8, 8, 8], seed: 1 } as TrainingConfig;

describe('loadSiteData', () => {
  let root: string;
  let siteDir: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'fedseg-site-data-'));
    const { siteDirs } = await generateConsortium({
      outDir: root,
      sites: 1,
      casesPerSite: 4,
      shape: [16, 16, 16],
      seed: 4,
    });
    siteDir = siteDirs[0]!;
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("applies a data plan: training cases on the plan's grid and normalized, validation cases raw and native", async () => {
    const data = await loadSiteData(siteDir, { valFraction: 0.25, seed: 0 });
    const view = data.forPlan(plan);
    expect(data.trainCases).toBe(3);
    expect(view.train).toHaveLength(3);
    const dataset = await loadDataset(siteDir);
    const split = splitCases(dataset, 0.25, 0);
    for (const [i, c] of view.train.entries()) {
      // Training samples carry no spacing: it is the plan's, the grid they were resampled to.
      const raw = await loadCase(dataset, split.train[i]!);
      // Doubling the spacing halves every axis at most (the body crop can only shrink it further).
      for (let a = 0; a < 3; a++)
        expect(c.shape[a]).toBeLessThanOrEqual(
          Math.ceil((raw.image.shape[a] * raw.image.spacingMm[a]) / plan.targetSpacingMm[a]) + 1,
        );

      // Per-case z-score over the foreground: the raw volume is not, the planned one has a mean near 0.
      const mean = c.image.reduce((s, x) => s + x, 0) / c.image.length;
      expect(Math.abs(mean)).toBeLessThan(2);
    }
    const rawVal = await loadCase(dataset, split.val[0]!);
    expect(view.val[0]!.shape).toEqual(rawVal.image.shape);
    expect(view.val[0]!.spacingMm).toEqual(rawVal.image.spacingMm);
    expect(Array.from(view.val[0]!.image)).toEqual(Array.from(rawVal.image.data));
    // Prepared once per plan.
    expect(data.forPlan({ ...plan })).toBe(view);
  });

  it("samples patches with the plan's foreground oversampling", async () => {
    const data = await loadSiteData(siteDir, { valFraction: 0.25, seed: 0 });
    const patches = data.forPlan(plan).epochSampler(training, 1)(0);
    expect(patches).toHaveLength(3);
    // Oversampling 1: every patch is centred on a foreground voxel.
    for (const p of patches) expect(p.label.some((v) => v > 0)).toBe(true);
  });

  it('keeps the pre-plan behaviour without a data plan: native grid, z-scored', async () => {
    const data = await loadSiteData(siteDir, { valFraction: 0.25, seed: 0 });
    expect(data.train[0]!.shape).toEqual([16, 16, 16]);
    expect(data.forPlan(undefined)).toBe(data.forPlan(undefined));
    expect(data.val[0]!.image.some((x) => x < 0)).toBe(true);
  });
});
