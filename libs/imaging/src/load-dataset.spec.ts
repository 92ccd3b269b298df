import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaseInvalidError, DatasetInvalidError } from './imaging-errors';
import { loadCase } from './load-case';
import { loadDataset } from './load-dataset';
import type { Volume } from './volume';
import { writeNifti } from './write-nifti';

let root: string;
beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'fedseg-dataset-'))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const shape: [number, number, number] = [3, 2, 2];
const vol = (f: (i: number) => number, channels = 1): Volume => ({
  data: Float32Array.from({ length: 12 * channels }, (_, i) => f(i)),
  shape,
  spacingMm: [1, 1, 2],
  channels,
});
const labels = vol((i) => i % 3);

function datasetJson(
  dir: string,
  training: Array<{ image: string; label: string }>,
  modality: Record<string, string>,
): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'dataset.json'),
    JSON.stringify({ name: 'T', modality, labels: { '0': 'bg', '1': 'a', '2': 'b' }, training }),
  );
}

describe('loadDataset + loadCase', () => {
  it('reads an MSD folder with 4D multi-modal images as channels', async () => {
    const dir = join(root, 'msd4d');
    datasetJson(dir, [{ image: './imagesTr/p1.nii.gz', label: './labelsTr/p1.nii.gz' }], {
      '0': 'T1',
      '1': 'FLAIR',
    });
    await writeNifti(
      join(dir, 'imagesTr', 'p1.nii.gz'),
      vol((i) => i, 2),
    );
    await writeNifti(join(dir, 'labelsTr', 'p1.nii.gz'), labels, { datatype: 'uint8' });
    const ds = await loadDataset(dir);
    expect(ds).toMatchObject({ layout: 'msd', name: 'T', modalities: ['T1', 'FLAIR'] });
    expect(ds.labels).toEqual([
      { value: 0, name: 'bg' },
      { value: 1, name: 'a' },
      { value: 2, name: 'b' },
    ]);
    const { image, label } = await loadCase(ds, 'p1');
    expect(image.channels).toBe(2);
    expect(Array.from(image.data)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(Array.from(label)).toEqual(Array.from(labels.data));
  });

  it('stacks nnU-Net style per-modality files (_0000, _0001) into channels-last', async () => {
    const dir = join(root, 'nnunet');
    datasetJson(dir, [{ image: './imagesTr/p2.nii.gz', label: './labelsTr/p2.nii.gz' }], {
      '0': 'CT',
      '1': 'PET',
    });
    await writeNifti(
      join(dir, 'imagesTr', 'p2_0000.nii.gz'),
      vol((i) => i),
    );
    await writeNifti(
      join(dir, 'imagesTr', 'p2_0001.nii.gz'),
      vol((i) => 100 + i),
    );
    await writeNifti(join(dir, 'labelsTr', 'p2.nii.gz'), labels, { datatype: 'uint8' });
    const ds = await loadDataset(dir);
    expect(ds.cases.map((c) => c.id)).toEqual(['p2']);
    const { image } = await loadCase(ds, 'p2');
    expect(image.channels).toBe(2);
    expect(Array.from(image.data.slice(0, 6))).toEqual([0, 100, 1, 101, 2, 102]);
  });

  it('refuses folders that are no dataset, malformed dataset.json and imagesTr without one, with DatasetInvalidError', async () => {
    await expect(loadDataset(join(root, 'absent'))).rejects.toThrow(DatasetInvalidError);
    const bad = join(root, 'badjson');
    mkdirSync(join(bad, 'imagesTr'), { recursive: true });
    writeFileSync(join(bad, 'dataset.json'), '{ "labels": ');
    await expect(loadDataset(bad)).rejects.toThrow(/dataset.json is not valid JSON/);
    writeFileSync(join(bad, 'dataset.json'), JSON.stringify({ labels: { x: 'bg' }, training: [] }));
    await expect(loadDataset(bad)).rejects.toThrow(/does not follow the MSD format \(labels\.x/);
    const noJson = join(root, 'nojson');
    mkdirSync(join(noJson, 'imagesTr'), { recursive: true });
    await expect(loadDataset(noJson)).rejects.toMatchObject({ code: 'DATASET_INVALID' });
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    await expect(loadDataset(empty)).rejects.toThrow(/neither dataset.json \+ imagesTr/);
  });

  it('refuses a case with a missing label, mismatched shape, undeclared class or NaN, naming the case', async () => {
    const dir = join(root, 'plain');
    datasetJson(dir, [], { '0': 'MRI' });
    await writeNifti(
      join(dir, 'images', 'nolabel.nii.gz'),
      vol((i) => i),
    );
    await writeNifti(
      join(dir, 'images', 'shape.nii.gz'),
      vol((i) => i),
    );
    await writeNifti(
      join(dir, 'labels', 'shape.nii.gz'),
      { ...labels, data: new Float32Array(6), shape: [3, 2, 1] },
      { datatype: 'uint8' },
    );
    await writeNifti(
      join(dir, 'images', 'cls.nii.gz'),
      vol((i) => i),
    );
    await writeNifti(
      join(dir, 'labels', 'cls.nii.gz'),
      vol((i) => (i === 4 ? 9 : 0)),
      { datatype: 'uint8' },
    );
    await writeNifti(
      join(dir, 'images', 'nan.nii.gz'),
      vol((i) => (i === 2 ? NaN : i)),
    );
    await writeNifti(join(dir, 'labels', 'nan.nii.gz'), labels, { datatype: 'uint8' });
    const ds = await loadDataset(dir);
    expect(ds.layout).toBe('plain');
    expect(ds.cases.map((c) => c.id)).toEqual(['cls', 'nan', 'nolabel', 'shape']);
    await expect(loadCase(ds, 'nolabel')).rejects.toThrow(/case nolabel: label \(none listed\) is missing/);
    await expect(loadCase(ds, 'shape')).rejects.toThrow(
      /case shape: image shape 3x2x2 differs from label shape 3x2x1/,
    );
    await expect(loadCase(ds, 'cls')).rejects.toThrow(
      /case cls: label value 9 at voxel 4 is not a declared class/,
    );
    await expect(loadCase(ds, 'nan')).rejects.toThrow(CaseInvalidError);
    await expect(loadCase(ds, 'zzz')).rejects.toMatchObject({ code: 'CASE_INVALID' });
  });
});
