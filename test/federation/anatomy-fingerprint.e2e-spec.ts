import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { SiteFingerprint, type StudyConfigInput } from '@fedseg/protocol';
import { startFederation, type Federation } from '../support/federation';

/**
 * Issue 18 end to end on real anatomy: three sites built from Debian's Colin27 brain (scripts/anatomy, tiny CI
 * variant: 4, 5 and 6 mm, 8-bit / 12-bit-like / float intensities), real agent processes. Before round 1 the
 * coordinator collects each site's data fingerprint, plans from it (the researcher fixes the network size for CI
 * time: 32^3 patches, depth 3, 8 filters; spacing, normalization and oversampling are planned), the plan hash
 * changes, the sites approve the planned study, and the federation trains at the plan's spacing, scoring each
 * site's validation case back on its native grid.
 */
const SITES = ['site-1', 'site-2', 'site-3'];
/**
 * CI runs the tiny variant. The full-size figures (scripts/anatomy/README.md): FEDSEG_ANATOMY_VARIANT=full
 * FEDSEG_ANATOMY_ROUNDS=10 FEDSEG_ANATOMY_EPOCHS=12 (about 10 minutes on two cores).
 */
const VARIANT = process.env.FEDSEG_ANATOMY_VARIANT === 'full' ? 'full' : 'tiny';
const ROUNDS = Number(process.env.FEDSEG_ANATOMY_ROUNDS ?? 4);
/** Local epochs per round (one patch per training case each). */
const EPOCHS = Number(process.env.FEDSEG_ANATOMY_EPOCHS ?? 4);

const study: StudyConfigInput = {
  name: 'e2e colin27 fingerprint',
  model: {
    architecture: 'unet3d',
    inChannels: 1,
    numClasses: 2,
    baseFilters: 4,
    depth: 2,
    normalization: 'instance',
  },
  training: { epochs: EPOCHS, batchSize: 2, learningRate: 1e-2, patchSize: [16, 16, 16], seed: 7 },
  rounds: ROUNDS,
  minSites: SITES.length,
  roundDeadlineMs: 300_000,
  siteWaitMs: 120_000,
  data: {
    fingerprint: true,
    overrides: { patchSize: [32, 32, 32], depth: 3, baseFilters: 8, batchSize: 2 },
    fingerprintDeadlineMs: 120_000,
  },
};

/** Every key of every object in `value`, as dotted paths with array indices folded to []. */
function keyPaths(value: unknown, prefix = ''): Set<string> {
  const out = new Set<string>();
  if (Array.isArray(value)) for (const v of value) for (const k of keyPaths(v, `${prefix}[]`)) out.add(k);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      out.add(`${prefix}.${k}`);
      for (const p of keyPaths(v, `${prefix}.${k}`)) out.add(p);
    }
  return out;
}

/** Every string value in `value` (keys excluded). */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

function longestArray(value: unknown): number {
  if (Array.isArray(value)) return Math.max(value.length, ...value.map(longestArray));
  if (value && typeof value === 'object') return Math.max(0, ...Object.values(value).map(longestArray));
  return 0;
}

describe('fingerprint -> plan -> federation on Colin27 (PostgreSQL)', () => {
  let fed: Federation;

  beforeAll(async () => {
    fed = await startFederation({ postgres: true, prefix: 'fedseg-e2e-anatomy' });
  });

  afterAll(async () => {
    await fed?.close();
  });

  it('plans from aggregate statistics only, changes the plan hash, and trains the planned study', async () => {
    const started = Date.now();
    // Built by the repository's own script (scripts/anatomy), as a site admin would run it.
    const sitesDir = path.join(fed.work, 'sites');
    const root = path.resolve(__dirname, '../..');
    execFileSync(
      process.execPath,
      [
        path.join(root, 'scripts/run-ts.js'),
        path.join(root, 'scripts/anatomy/main.ts'),
        '--out',
        sitesDir,
      ].concat(['--variant', VARIANT, '--cases', '4', '--seed', '5']),
      { stdio: 'ignore' },
    );
    const siteDirs = ['site-01', 'site-02', 'site-03'].map((s) => path.join(sitesDir, s));
    await fed.enroll(SITES);
    const studyId = await fed.createStudy(study);
    await fed.approve(studyId, SITES);
    SITES.forEach((site, i) => fed.spawn(site, siteDirs[i]!, ['--backend', 'cpu', '--memory-mb', '2048']));
    await fed.startStudy(studyId);

    // The fingerprint phase ends with a data plan in the study's config.
    let planned = null;
    for (let i = 0; i < 600 && !planned; i++) {
      planned = await fed.prisma.studyDataPlan.findUnique({ where: { studyId } });
      if (!planned) await new Promise((r) => setTimeout(r, 200));
    }
    expect(planned).not.toBeNull();

    // What left each site: exactly the documented statistics (an independent list, not the schema's own).
    const rows = await fed.prisma.siteFingerprint.findMany({ where: { studyId }, include: { site: true } });
    expect(rows.map((r) => r.site.name).sort()).toEqual(SITES);
    // scripts/anatomy/README.md: sites at 4, 5 and 6 mm (tiny) or 1, 1.5 and 2 mm (full).
    const spacings = VARIANT === 'tiny' ? [4, 5, 6] : [1, 1.5, 2];
    const expectedSpacing: Record<string, number> = Object.fromEntries(
      SITES.map((s, i) => [s, spacings[i]!]),
    );
    for (const row of rows) {
      const fp = SiteFingerprint.parse(row.fingerprint);
      expect([...keyPaths(row.fingerprint)].sort()).toEqual(
        [
          '.version',
          '.cases',
          '.cases[].spacingMm',
          '.cases[].shape',
          '.cases[].bodyShape',
          '.modalities',
          '.modalities[].modality',
          '.modalities[].lo',
          '.modalities[].hi',
          '.modalities[].counts',
          '.modalities[].mean',
          '.modalities[].std',
          '.modalities[].voxels',
          '.numClasses',
          '.classVolumeFractions',
          '.memoryBudgetMb',
        ].sort(),
      );
      // No file or case name, no voxel array: the only string is the modality, the longest array a histogram.
      expect(stringsIn(row.fingerprint)).toEqual(['T1']);
      expect(longestArray(row.fingerprint)).toBeLessThanOrEqual(64);
      expect(fp.cases).toHaveLength(3); // 4 cases, a quarter kept for validation
      for (const c of fp.cases) expect(c.spacingMm).toEqual(Array(3).fill(expectedSpacing[row.site.name]));
      expect(fp.modalities.map((m) => m.modality)).toEqual(['T1']);
      expect(fp.memoryBudgetMb).toBe(2048);
    }

    // The plan: median spacing of the nine training cases (three at each site's spacing) is the middle site's;
    // T1 is MR, so per-case z-score; the researcher's network size is kept. At full size a 32^3 patch covers
    // under a quarter of the median head there, so the plan coarsens the spacing (nnU-Net's 3d_lowres rule)
    // until it covers a quarter: checked here from the stored fingerprints, not the planner's own numbers.
    const plan = (planned!.plan ?? {}) as Record<string, unknown>;
    const spacing = plan.targetSpacingMm as number[];
    if (VARIANT === 'tiny') expect(spacing).toEqual(Array(3).fill(spacings[1]));
    else {
      const extents = rows.flatMap((r) =>
        SiteFingerprint.parse(r.fingerprint).cases.map((c) => c.bodyShape.map((n, a) => n * c.spacingMm[a]!)),
      );
      const medianMm = [0, 1, 2].map((a) => extents.map((e) => e[a]!).sort((x, y) => x - y)[4]!);
      const coverage = (s: number[]) => 32 ** 3 / medianMm.reduce((p, mm, a) => p * (mm / s[a]!), 1);
      expect(coverage(Array(3).fill(spacings[1]))).toBeLessThan(0.25);
      expect(coverage(spacing)).toBeGreaterThanOrEqual(0.25);
      expect(coverage(spacing.map((s) => s / 1.03))).toBeLessThan(0.25);
      console.log(`colin27 full: planned ${spacing.join('x')} mm, ${(planned!.reasons as string[])[0]}`);
    }
    expect(plan.normalization).toEqual([{ scheme: 'zscore' }]);
    expect(plan.patchSize).toEqual([32, 32, 32]);
    const audit = await fed.prisma.auditEvent.findFirstOrThrow({
      where: { subject: studyId, action: 'study.data-planned' },
    });
    const details = audit.details as { planHashBefore: string; planHashAfter: string; sites: number };
    expect(details.sites).toBe(3);
    expect(details.planHashAfter).not.toBe(details.planHashBefore);

    // Sites trained for the old hash only; they approve the planned study, then round 1 starts.
    await fed.approve(studyId, SITES);
    const final = await fed.waitForCompletion(studyId, 900_000);
    expect(final.status).toBe('completed');
    const minutes = (Date.now() - started) / 60_000;

    const sites = await fed.prisma.site.findMany({ where: { name: { in: SITES } } });
    const last = await fed.prisma.metric.findMany({
      where: { studyId, roundIndex: ROUNDS, split: 'val', siteId: { in: sites.map((s) => s.id) } },
    });
    const byName = (name: string, metric: string) =>
      last.find((m) => m.name === metric && m.siteId === sites.find((s) => s.name === name)!.id)?.value;
    const table = SITES.map((s) => ({
      site: s,
      dice: byName(s, 'dice'),
      hd95Mm: byName(s, 'hd95'),
      assdMm: byName(s, 'assd'),
    }));
    console.log(
      `colin27 ${VARIANT}: ${ROUNDS} rounds of ${EPOCHS} epochs in ${minutes.toFixed(1)} min (incl. build and fingerprint)\n` +
        table
          .map(
            (r) =>
              `  ${r.site}: Dice ${r.dice?.toFixed(3)} HD95 ${r.hd95Mm?.toFixed(1)} mm ASSD ${r.assdMm?.toFixed(2)} mm`,
          )
          .join('\n'),
    );
    // Every site reported Dice, HD95 and ASSD (in mm, on its native grid) for the final model, and the mean
    // validation Dice reaches the 0.90 (measured here: 0.954, 0.959, 0.957 after 4 rounds; full size at
    // the planned 3.535 mm, 10 rounds of 12 epochs: 0.956, 0.954, 0.948).
    for (const r of table) {
      expect(r.dice).toBeGreaterThan(0.85);
      expect(Number.isFinite(r.hd95Mm)).toBe(true);
      expect(Number.isFinite(r.assdMm)).toBe(true);
    }
    expect(table.reduce((sum, r) => sum + r.dice!, 0) / table.length).toBeGreaterThanOrEqual(0.9);
  }, 1_000_000);
});
