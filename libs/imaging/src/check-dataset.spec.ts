import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkDataset } from './check-dataset';
import type { Volume } from './volume';
import { writeNifti } from './write-nifti';

let root: string;
beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'fedseg-check-'))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const vol = (spacingMm: [number, number, number], f: (i: number) => number = () => 1): Volume => ({
  data: Float32Array.from({ length: 8 }, (_, i) => f(i)),
  shape: [2, 2, 2],
  spacingMm,
  channels: 1,
});

describe('checkDataset', () => {
  it('names the file for spacing, orientation and origin disagreements, fractional labels and orphan labels', async () => {
    const dir = join(root, 'geom');
    const img = (id: string): string => join(dir, 'images', `${id}.nii.gz`);
    const lab = (id: string): string => join(dir, 'labels', `${id}.nii.gz`);
    for (const id of ['spacing', 'orient', 'origin', 'frac']) await writeNifti(img(id), vol([1, 1, 2]));
    await writeNifti(lab('spacing'), vol([1, 1, 3]), { datatype: 'uint8' });
    // Same spacing, x axis flipped (L instead of R): a label drawn on a mirrored image.
    await writeNifti(lab('orient'), vol([1, 1, 2]), {
      datatype: 'uint8',
      affine: [-1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1],
    });
    await writeNifti(lab('origin'), vol([1, 1, 2]), {
      datatype: 'uint8',
      affine: [1, 0, 0, 5, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1],
    });
    await writeNifti(
      lab('frac'),
      vol([1, 1, 2], (i) => i / 2),
      { datatype: 'float32' },
    );
    await writeNifti(lab('orphan'), vol([1, 1, 2]), { datatype: 'uint8' });
    const check = await checkDataset(dir);
    const faults = check.problems.map((p) => `${p.file}: ${p.fault}`);
    expect(faults).toEqual([
      'labels/frac.nii.gz: 4 label voxel(s) are not integers (NaN or fractional); labels must be class indices',
      "labels/orient.nii.gz: orientation LAS differs from the image's RAS",
      "labels/origin.nii.gz: affine (origin or direction) differs from the image's by up to 5.000 mm; the label is not aligned",
      'labels/orphan.nii.gz: label without an image',
      "labels/spacing.nii.gz: spacing 1x1x3 mm differs from the image's 1x1x2 mm",
    ]);
    const frac = check.cases.find((c) => c.id === 'frac');
    expect(frac?.intensity).toEqual({ min: 1, max: 1, mean: 1 });
    // i / 2 for i = 0..7: integers 0, 1, 2, 3 once each are counted, the four halves are the problem above.
    expect([...(frac?.classVoxels.entries() ?? [])]).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [3, 1],
    ]);
  });
});
