import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateConsortium } from './generate-consortium';
import { loadCase } from './load-case';
import { loadDataset } from './load-dataset';
import { splitCases } from './split-cases';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fedseg-phantom-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function stats(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length) };
}

describe('generateConsortium', () => {
  it('writes one MSD folder per site, byte-identical for the same seed', async () => {
    const opts = { sites: 3, casesPerSite: 2, shape: [12, 10, 8] as [number, number, number], seed: 42 };
    const a = await generateConsortium({ ...opts, outDir: join(dir, 'a') });
    const b = await generateConsortium({ ...opts, outDir: join(dir, 'b') });
    expect(a.siteDirs.map((d) => d.slice(-7))).toEqual(['site-01', 'site-02', 'site-03']);
    for (let s = 0; s < 3; s++) {
      expect(readdirSync(join(a.siteDirs[s], 'imagesTr'))).toHaveLength(2);
      for (const f of ['dataset.json', 'imagesTr/case_000.nii.gz', 'labelsTr/case_001.nii.gz']) {
        expect(readFileSync(join(a.siteDirs[s], f)).equals(readFileSync(join(b.siteDirs[s], f)))).toBe(true);
      }
    }
    const other = await generateConsortium({ ...opts, seed: 43, outDir: join(dir, 'c') });
    expect(
      readFileSync(join(other.siteDirs[0], 'imagesTr/case_000.nii.gz')).equals(
        readFileSync(join(a.siteDirs[0], 'imagesTr/case_000.nii.gz')),
      ),
    ).toBe(false);
  });

  it('makes learnable cases (organ and lesion present, organ far from tissue) whose sites differ measurably', async () => {
    const { siteDirs, profiles } = await generateConsortium({
      outDir: join(dir, 'd'),
      sites: 3,
      casesPerSite: 2,
      shape: [24, 24, 24],
      seed: 7,
    });
    const perSite: Array<{ mean: number; organ: number; spacing: number[] }> = [];
    for (const siteDir of siteDirs) {
      const ds = await loadDataset(siteDir);
      expect(ds.layout).toBe('msd');
      expect(ds.labels?.map((l) => l.value)).toEqual([0, 1, 2]);
      const organ: number[] = [];
      const tissue: number[] = [];
      const all: number[] = [];
      let lesionVoxels = 0;
      let spacing: number[] = [];
      for (const c of ds.cases) {
        const { image, label } = await loadCase(ds, c.id);
        spacing = image.spacingMm;
        image.data.forEach((x, i) => {
          all.push(x);
          if (label[i] === 1) organ.push(x);
          if (label[i] === 2) lesionVoxels++;
        });
        // Tissue ring: background voxels in the central slab, where the body is.
        image.data.forEach((x, i) => {
          const z = Math.floor(i / 576);
          const y = Math.floor(i / 24) % 24;
          const xx = i % 24;
          if (
            label[i] === 0 &&
            z > 8 &&
            z < 16 &&
            Math.hypot(xx - 11.5, y - 11.5) > 9 &&
            Math.hypot(xx - 11.5, y - 11.5) < 10.5
          )
            tissue.push(x);
        });
      }
      expect(organ.length).toBeGreaterThan(200);
      expect(lesionVoxels).toBeGreaterThanOrEqual(0);
      const o = stats(organ);
      const t = stats(tissue);
      // Learnable: organ and tissue separate by well over their noise (Cohen's d > 1.5).
      expect(Math.abs(o.mean - t.mean) / Math.max(o.std, t.std)).toBeGreaterThan(1.5);
      perSite.push({ mean: stats(all).mean, organ: o.mean, spacing });
    }
    // Sites differ: mean intensities at least 10% apart pairwise, spacings differ.
    for (let i = 0; i < perSite.length; i++)
      for (let j = i + 1; j < perSite.length; j++) {
        const a = perSite[i].organ;
        const b = perSite[j].organ;
        expect(Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b))).toBeGreaterThan(0.1);
        expect(perSite[i].spacing).not.toEqual(perSite[j].spacing);
      }
    expect(new Set(profiles.map((p) => p.noiseSigma.toFixed(3))).size).toBe(3);
  });

  it('with heterogeneity 0 gives every site the reference scanner', async () => {
    const { profiles } = await generateConsortium({
      outDir: join(dir, 'e'),
      sites: 2,
      casesPerSite: 1,
      shape: [8, 8, 8],
      seed: 1,
      heterogeneity: 0,
    });
    expect(profiles[0]).toEqual(profiles[1]);
  });

  it('splits cases deterministically and never leaves a site without training data', async () => {
    const ds = {
      cases: ['c', 'a', 'e', 'b', 'd'].map((id) => ({ id, imagePaths: [], labelPath: undefined })),
    };
    const s1 = splitCases(ds, 0.4, 9);
    expect(splitCases(ds, 0.4, 9)).toEqual(s1);
    expect(s1.val).toHaveLength(2);
    expect([...s1.train, ...s1.val].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(splitCases({ cases: ds.cases.slice(0, 2) }, 0.1, 1).val).toHaveLength(1);
    expect(splitCases({ cases: ds.cases.slice(0, 2) }, 0.9, 1).train).toHaveLength(1);
  });
});
