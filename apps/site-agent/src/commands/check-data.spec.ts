import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { generateConsortium, writeNifti } from '@fedseg/imaging';
import { checkDataCommand } from './check-data';

/**
 * The broken-case folder of issue 4's acceptance, built at test time from a generated phantom site so no binary
 * fixture is committed: one healthy case, then one case per fault.
 */
async function brokenFolder(root: string): Promise<string> {
  const { siteDirs } = await generateConsortium({
    outDir: root,
    sites: 1,
    casesPerSite: 7,
    shape: [8, 8, 6],
    seed: 5,
  });
  const site = siteDirs[0];
  const img = (id: number): string => join(site, 'imagesTr', `case_00${id}.nii.gz`);
  const lab = (id: number): string => join(site, 'labelsTr', `case_00${id}.nii.gz`);
  const spacingMm = JSON.parse(readFileSync(join(site, 'dataset.json'), 'utf8')).fedseg_phantom.spacingMm as [
    number,
    number,
    number,
  ];
  // 1: missing label
  unlinkSync(lab(1));
  // 2: label shape differs from the image
  await writeNifti(
    lab(2),
    { data: new Float32Array(8 * 8 * 5), shape: [8, 8, 5], spacingMm, channels: 1 },
    { datatype: 'uint8' },
  );
  // 3: label value 7 outside the declared classes 0, 1, 2
  const bad = new Float32Array(8 * 8 * 6);
  bad[10] = 7;
  bad[11] = 7;
  await writeNifti(lab(3), { data: bad, shape: [8, 8, 6], spacingMm, channels: 1 }, { datatype: 'uint8' });
  // 4: truncated gzip (a download cut short)
  const gz = readFileSync(img(4));
  writeFileSync(img(4), gz.subarray(0, Math.floor(gz.length / 2)));
  // 5: wrong magic
  const raw = gunzipSync(readFileSync(img(5)));
  raw.write('zz9\0', 344, 'latin1');
  writeFileSync(img(5), gzipSync(raw));
  // 6: NaNs in the image
  const nan = new Float32Array(8 * 8 * 6).fill(1);
  nan[3] = NaN;
  nan[4] = NaN;
  await writeNifti(img(6), { data: nan, shape: [8, 8, 6], spacingMm, channels: 1 });
  return site;
}

function collect(): { io: { out(l: string): void; err(l: string): void }; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l) => out.push(l), err: (l) => err.push(l) }, out, err };
}

describe('check-data', () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'fedseg-checkdata-'))));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints one line per broken case naming the file and the fault, and exits non-zero without crashing', async () => {
    const site = await brokenFolder(join(root, 'broken'));
    const { io, out, err } = collect();
    const code = await checkDataCommand([site], io);
    expect(code).toBe(1);
    const problems = err.slice(1);
    expect(err[0]).toBe('6 problem(s):');
    expect(problems).toHaveLength(6);
    expect(problems[0]).toBe('labelsTr/case_001.nii.gz: label file is missing for case case_001');
    expect(problems[1]).toBe("labelsTr/case_002.nii.gz: shape 8x8x5 differs from the image's 8x8x6");
    expect(problems[2]).toBe(
      'labelsTr/case_003.nii.gz: label value(s) 7 (2 voxels) not among the declared classes 0, 1, 2',
    );
    expect(problems[3]).toMatch(/^imagesTr\/case_004\.nii\.gz: corrupt or truncated gzip stream \(.+\)$/);
    expect(problems[4]).toBe('imagesTr/case_005.nii.gz: wrong magic "zz9", expected "n+1"');
    expect(problems[5]).toBe(
      'imagesTr/case_006.nii.gz: 2 NaN and 0 infinite voxel value(s); fix or mask them before training',
    );
    // The summary table still lists every case, healthy ones marked ok.
    expect(out.find((l) => l.startsWith('case_000'))).toMatch(/8x8x6 .* ok$/);
    expect(out.filter((l) => /^case_00\d/.test(l))).toHaveLength(7);
  });

  it('passes a healthy generated site with exit 0 and a summary table', async () => {
    const { siteDirs } = await generateConsortium({
      outDir: join(root, 'good'),
      sites: 1,
      casesPerSite: 2,
      shape: [8, 8, 6],
      seed: 1,
    });
    const { io, out, err } = collect();
    expect(await checkDataCommand([siteDirs[0]], io)).toBe(0);
    expect(err).toEqual([]);
    expect(out[1]).toContain(
      '(msd layout): 2 case(s); modalities: MRI; classes: 0 background, 1 organ, 2 lesion',
    );
    expect(out[out.length - 1]).toBe('OK: 2 case(s), no problems found.');
  });

  it('refuses a folder that is not a dataset in one line, and bad arguments with exit 2', async () => {
    const a = collect();
    expect(await checkDataCommand([join(root, 'nope')], a.io)).toBe(1);
    expect(a.err).toEqual([
      '1 problem(s):',
      `${join(root, 'nope')}: not a folder; point check-data at a dataset folder`,
    ]);
    const b = collect();
    expect(await checkDataCommand([], b.io)).toBe(2);
    expect(b.err[0]).toMatch(/^check-data: Invalid check-data arguments: dir: give the dataset folder/);
    const c = collect();
    expect(await checkDataCommand(['x', '--frobnicate'], c.io)).toBe(2);
  });

  it('reads a plain images/ + labels/ folder and reports an image without label', async () => {
    const dir = join(root, 'plain');
    const vol = {
      data: new Float32Array(27).fill(3),
      shape: [3, 3, 3] as [number, number, number],
      spacingMm: [1, 1, 1] as [number, number, number],
      channels: 1,
    };
    await writeNifti(join(dir, 'images', 'a.nii.gz'), vol);
    await writeNifti(
      join(dir, 'labels', 'a.nii.gz'),
      { ...vol, data: new Float32Array(27).fill(1) },
      { datatype: 'uint8' },
    );
    await writeNifti(join(dir, 'images', 'b_0000.nii'), vol);
    const { io, err } = collect();
    expect(await checkDataCommand([dir], io)).toBe(1);
    expect(err).toEqual(['1 problem(s):', 'images/b_0000.nii: no label found for case b']);
  });
});
