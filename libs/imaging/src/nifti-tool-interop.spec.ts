import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { NIFTI_DATATYPES, type NiftiDatatype } from './nifti-datatype';
import { writeNifti } from './write-nifti';

/**
 * Acceptance: files we write are read by an independent implementation, nifti_tool from Debian's `nifti-bin`
 * (nifticlib 3.0.1), which reports the same dim, pixdim and datatype, accepts the header (-check_hdr, -check_nim),
 * and returns the same voxel values (-disp_ci). CI installs it: `apt-get install -y nifti-bin`.
 */
function findNiftiTool(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'nifti_tool');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const tool = findNiftiTool();
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fedseg-niftitool-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function field(file: string, name: string): number[] {
  const out = execFileSync(tool as string, ['-disp_hdr', '-field', name, '-infiles', file], {
    encoding: 'utf8',
  });
  const line = out.split('\n').find((l) => l.trim().startsWith(name + ' '));
  if (!line) throw new Error(`nifti_tool printed no ${name} for ${file}:\n${out}`);
  // "  pixdim   76   8   1.0 0.5 ..." -> the values after name, offset and count.
  return line.trim().split(/\s+/).slice(3).map(Number);
}

describe('nifti_tool (nifti-bin) reads what writeNifti writes', () => {
  it('finds nifti_tool on PATH', () => {
    if (!tool)
      throw new Error(
        'nifti_tool not found on PATH: install Debian package nifti-bin (apt-get install -y nifti-bin)',
      );
  });

  const cases: Array<[NiftiDatatype, [number, number, number], [number, number, number], number]> = [
    ['float32', [7, 5, 3], [0.7, 1.3, 2.5], 1],
    ['uint8', [4, 6, 2], [1, 1, 1], 1],
    ['int16', [3, 3, 9], [0.5, 0.5, 5], 1],
    ['float64', [4, 3, 2], [2, 0.25, 1.5], 3],
    ['int32', [2, 2, 2], [1.5, 1.5, 1.5], 1],
    ['uint16', [5, 1, 4], [0.9, 0.9, 4.4], 2],
  ];
  it.each(cases)(
    'reports the same dims, pixdim, datatype and voxels for %s %p at %p mm with %i channel(s)',
    async (dtype, shape, spacing, channels) => {
      if (!tool)
        throw new Error(
          'nifti_tool not found on PATH: install Debian package nifti-bin (apt-get install -y nifti-bin)',
        );
      const n = shape[0] * shape[1] * shape[2] * channels;
      const data = Float32Array.from({ length: n }, (_, i) => (i * 7) % 200);
      const file = join(dir, `${dtype}-${channels}.nii.gz`);
      await writeNifti(file, { data, shape, spacingMm: spacing, channels }, { datatype: dtype });

      const dim = field(file, 'dim');
      expect(dim.slice(0, 5)).toEqual(channels > 1 ? [4, ...shape, channels] : [3, ...shape, 1]);
      const pixdim = field(file, 'pixdim');
      spacing.forEach((s, i) => expect(pixdim[i + 1]).toBeCloseTo(s, 5));
      expect(field(file, 'datatype')).toEqual([NIFTI_DATATYPES[dtype].code]);
      expect(field(file, 'bitpix')).toEqual([NIFTI_DATATYPES[dtype].bytes * 8]);

      const check = execFileSync(tool, ['-check_hdr', '-check_nim', '-infiles', file], { encoding: 'utf8' });
      expect(check).toContain('header IS GOOD');
      expect(check).toContain('nifti_image IS GOOD');

      // Last voxel, last channel: nifti_tool indexes (i j k t ...), we store channels-last.
      const [x, y, z, c] = [shape[0] - 1, shape[1] - 1, shape[2] - 1, channels - 1];
      const value = execFileSync(
        tool,
        [
          '-quiet',
          '-disp_ci',
          String(x),
          String(y),
          String(z),
          String(channels > 1 ? c : -1),
          '-1',
          '-1',
          '-1',
          '-infiles',
          file,
        ],
        {
          encoding: 'utf8',
        },
      );
      const v = x + shape[0] * (y + shape[1] * z);
      expect(Number(value.trim())).toBe(data[v * channels + c]);
    },
  );

  it('computes the same qform and sform matrices (qto_xyz, sto_xyz) for an oblique, flipped affine', async () => {
    if (!tool)
      throw new Error(
        'nifti_tool not found on PATH: install Debian package nifti-bin (apt-get install -y nifti-bin)',
      );
    const c = Math.cos(0.4);
    const s = Math.sin(0.4);
    // x -> mostly -R (rotated about z), y -> mostly -A, z -> +S: an LPS-ish scanner frame, spacing 0.9 x 1.1 x 2.5.
    const affine = [-0.9 * c, 1.1 * s, 0, 31.5, -0.9 * s, -1.1 * c, 0, -12.25, 0, 0, 2.5, 4, 0, 0, 0, 1];
    const file = join(dir, 'oblique.nii.gz');
    await writeNifti(
      file,
      { data: new Float32Array(4 * 3 * 2), shape: [4, 3, 2], spacingMm: [0.9, 1.1, 2.5], channels: 1 },
      { affine },
    );
    const out = execFileSync(
      tool,
      ['-disp_nim', '-field', 'qto_xyz', '-field', 'sto_xyz', '-infiles', file],
      { encoding: 'utf8' },
    );
    for (const name of ['qto_xyz', 'sto_xyz']) {
      const line = out.split('\n').find((l) => l.trim().startsWith(name + ' '));
      const m = (line ?? '').trim().split(/\s+/).slice(3).map(Number);
      expect(m).toHaveLength(16);
      m.forEach((v, i) => expect(v).toBeCloseTo(affine[i], 4));
    }
  });
});
