/**
 * Per-site intensity statistics of a generated phantom consortium, as the Markdown table in the root README:
 * `node scripts/run-ts.js libs/imaging/scripts/phantom-site-stats.ts [--sites 4] [--cases 8] [--size 32] [--seed 7]`
 * (defaults = the demo's consortium). Statistics are measured on the written files, not taken from the profiles.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateConsortium, loadCase, loadDataset, otsuThreshold } from '../src';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function meanSd(values: number[]): [number, number] {
  const m = values.reduce((a, b) => a + b, 0) / values.length;
  return [m, Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length)];
}

async function main(): Promise<void> {
  const sites = option('sites', 4);
  const cases = option('cases', 8);
  const size = option('size', 32);
  const seed = option('seed', 7);
  const out = mkdtempSync(join(tmpdir(), 'fedseg-phantom-stats-'));
  try {
    const started = Date.now();
    const { siteDirs, profiles } = await generateConsortium({
      outDir: out,
      sites,
      casesPerSite: cases,
      shape: [size, size, size],
      seed,
    });
    const generationMs = Date.now() - started;
    const f = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');
    console.log(
      '| site | spacing mm | scanner scale / offset | noise σ | bias ± | contrast | image mean ± sd | p1 .. p99 | body tissue mean ± sd | organ mean ± sd | lesion mean ± sd | organ-tissue d | organ ml / case | lesion voxels / case |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (let s = 0; s < siteDirs.length; s++) {
      const dataset = await loadDataset(siteDirs[s]);
      const all: number[] = [];
      const tissue: number[] = [];
      const organ: number[] = [];
      const lesion: number[] = [];
      let spacing = [1, 1, 1];
      for (const c of dataset.cases) {
        const { image, label } = await loadCase(dataset, c.id);
        spacing = image.spacingMm;
        // Body vs air by Otsu; body tissue = inside the body, labelled background.
        const body = otsuThreshold(image.data);
        image.data.forEach((x, i) => {
          all.push(x);
          if (label[i] === 1) organ.push(x);
          else if (label[i] === 2) lesion.push(x);
          else if (x > body) tissue.push(x);
        });
      }
      const sorted = Float64Array.from(all).sort();
      const pct = (q: number): number => sorted[Math.floor(q * (sorted.length - 1))];
      const [am, asd] = meanSd(all);
      const [tm, tsd] = meanSd(tissue);
      const [om, osd] = meanSd(organ);
      const [lm, lsd] = lesion.length ? meanSd(lesion) : [NaN, NaN];
      const p = profiles[s];
      const voxelMl = (spacing[0] * spacing[1] * spacing[2]) / 1000;
      const cohen = (om - tm) / Math.sqrt((osd * osd + tsd * tsd) / 2);
      console.log(
        `| ${s + 1} | ${spacing.map((x) => f(x, 2)).join(' x ')} | ${f(p.intensityScale)} / ${f(p.intensityOffset)} | ${f(p.noiseSigma, 3)} | ${f(p.biasAmplitude, 2)} | ${f(p.contrast, 2)} | ` +
          `${f(am)} ± ${f(asd)} | ${f(pct(0.01))} .. ${f(pct(0.99))} | ${f(tm)} ± ${f(tsd)} | ${f(om)} ± ${f(osd)} | ${f(lm)} ± ${f(lsd)} | ${f(cohen, 2)} | ` +
          `${f((organ.length / dataset.cases.length) * voxelMl, 2)} | ${f(lesion.length / dataset.cases.length, 0)} |`,
      );
    }
    console.log(
      `\n${sites} sites x ${cases} cases of ${size}^3, seed ${seed}; generated in ${generationMs} ms.`,
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
