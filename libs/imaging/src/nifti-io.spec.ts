import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeNifti } from './decode-nifti';
import { encodeNifti } from './encode-nifti';
import { NiftiFormatError, NiftiUnsupportedError, NiftiWriteError } from './imaging-errors';
import { NIFTI_DATATYPES, type NiftiDatatype } from './nifti-datatype';
import { readNifti } from './read-nifti';
import type { Volume } from './volume';
import { writeNifti } from './write-nifti';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'fedseg-nifti-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ramp(shape: [number, number, number], channels: number, f: (i: number) => number): Volume {
  const n = shape[0] * shape[1] * shape[2] * channels;
  return {
    data: Float32Array.from({ length: n }, (_, i) => f(i)),
    shape,
    spacingMm: [0.75, 1.25, 3],
    channels,
  };
}

/** Values each datatype holds exactly, including its extremes where float32 can hold them. */
const samples: Record<NiftiDatatype, (i: number) => number> = {
  uint8: (i) => (i * 37) % 256,
  int8: (i) => ((i * 37) % 256) - 128,
  int16: (i) => (i % 2 ? -32768 + (i % 7) : 32767 - (i % 7)),
  uint16: (i) => (i * 977) % 65536,
  int32: (i) => (i % 2 ? -1 : 1) * i * 100_003,
  uint32: (i) => i * 1_000_003,
  int64: (i) => 5 - i * 4096,
  uint64: (i) => i * 65536,
  float32: (i) => Math.fround(Math.sin(i) * 1e3),
  float64: (i) => Math.fround(Math.cos(i) * -7.25),
};

describe('NIfTI read/write', () => {
  it.each(Object.keys(NIFTI_DATATYPES) as NiftiDatatype[])(
    'round-trips %s exactly through .nii.gz (read -> write -> read)',
    async (dtype) => {
      const vol = ramp([5, 4, 3], 1, samples[dtype]);
      const a = join(dir, `a-${dtype}.nii.gz`);
      await writeNifti(a, vol, { datatype: dtype });
      const first = await readNifti(a);
      expect(first.datatype).toBe(dtype);
      expect(Array.from(first.data)).toEqual(Array.from(vol.data));
      const b = join(dir, `b-${dtype}.nii.gz`);
      await writeNifti(b, first, { datatype: first.datatype, affine: first.affine });
      const second = await readNifti(b);
      expect(second.data).toEqual(first.data);
      expect(second.shape).toEqual(first.shape);
      expect(second.spacingMm).toEqual(first.spacingMm);
      expect(second.affine).toEqual(first.affine);
    },
  );

  it('stores channels as dim[4] planes and reads them back channels-last', async () => {
    const vol = ramp([3, 2, 2], 3, (i) => i);
    const path = join(dir, 'multi.nii');
    await writeNifti(path, vol);
    const bytes = new Uint8Array(readFileSync(path));
    const view = new DataView(bytes.buffer);
    expect([0, 1, 2, 3, 4].map((k) => view.getInt16(40 + 2 * k, true))).toEqual([4, 3, 2, 2, 3]);
    // Voxel 1, channel 2 is value 1*3+2 = 5 and lives in plane 2 on disk: offset 352 + 4*(2*12 + 1).
    expect(view.getFloat32(352 + 4 * (2 * 12 + 1), true)).toBe(5);
    const back = await readNifti(path);
    expect(back.channels).toBe(3);
    expect(Array.from(back.data)).toEqual(Array.from(vol.data));
  });

  it('keeps an oblique, flipped affine (qform and sform) and reports its axis codes', async () => {
    const c = Math.cos(0.3);
    const s = Math.sin(0.3);
    // Columns: x -> -R rotated in the x-y plane, y -> -A rotated, z -> +S; spacing 0.75, 1.25, 3.
    const affine = [-0.75 * c, 1.25 * s, 0, 12, -0.75 * s, -1.25 * c, 0, -4, 0, 0, 3, 7, 0, 0, 0, 1];
    const path = join(dir, 'oblique.nii.gz');
    await writeNifti(
      path,
      ramp([4, 4, 4], 1, (i) => i),
      { affine },
    );
    const img = await readNifti(path);
    expect(img.orientation).toBe('LPS');
    img.affine.forEach((v, i) => expect(v).toBeCloseTo(affine[i], 5));
    // Drop the sform: the qform alone must give the same affine.
    const raw = encodeNifti(
      ramp([4, 4, 4], 1, (i) => i),
      'x',
      { affine, sformCode: 0 },
    );
    const viaQform = decodeNifti(raw, 'x');
    expect(viaQform.affineSource).toBe('qform');
    viaQform.affine.forEach((v, i) => expect(v).toBeCloseTo(affine[i], 5));
  });

  it('reads a header written by nifti_tool: qform with qfac -1, scl_slope 2, scl_inter -3, int16', async () => {
    // Made with nifti-bin 3.0.1: nifti_tool -make_im -new_dims 3 4 3 2 0 0 0 0 -new_datatype 4, then -mod_hdr
    // pixdim '-1 0.5 0.8 3 ...', scl_slope 2, scl_inter -3, qform_code 1, quatern_d 1, qoffset 10 20 -5; data
    // bytes set to int16 -5..18. `nifti_tool -disp_nim -field qto_xyz` prints the affine expected below.
    const img = await readNifti(join(__dirname, '__fixtures__', 'nifti-tool-qform-int16.nii.gz'));
    expect(img.shape).toEqual([4, 3, 2]);
    expect(img.spacingMm.map((x) => Math.fround(x))).toEqual([0.5, 0.8, 3].map(Math.fround));
    expect(img.datatype).toBe('int16');
    expect(img.data[21]).toBe(16 * 2 - 3); // nifti_tool -disp_ci 1 2 1 prints raw 16
    expect(img.data[0]).toBe(-5 * 2 - 3);
    const want = [-0.5, 0, 0, 10, 0, -0.8, 0, 20, 0, 0, -3, -5, 0, 0, 0, 1];
    img.affine.forEach((v, i) => expect(v).toBeCloseTo(want[i], 6));
    expect(img.orientation).toBe('LPI');
  });

  it('reads NIfTI-2 and big-endian NIfTI-1 headers laid out per nifti_tool -help_hdr2 / -help_hdr', () => {
    // The NIfTI-2 bytes below, written to disk, are read by nifti_tool 3.0.1 (-disp_nim) as nx 2, ny 3, nz 2, dx 0.9,
    // dz 2.2, scl_slope 0.5, the same sto_xyz, and -disp_ci 1 2 1 prints raw 7 (checked by hand, 2026-11-25).
    // NIfTI-2: sizeof_hdr 540 @0, magic @4, datatype @12, bitpix @14, dim int64[8] @16, pixdim double[8] @104,
    // vox_offset int64 @168, scl_slope @176, scl_inter @184, sform_code int32 @348, srow_x/y/z double[4] @400/432/464.
    const n2 = new Uint8Array(544 + 2 * 3 * 2 * 8);
    const v = new DataView(n2.buffer);
    v.setInt32(0, 540, true);
    n2.set([0x6e, 0x2b, 0x32, 0, 0x0d, 0x0a, 0x1a, 0x0a], 4);
    v.setInt16(12, 64, true);
    v.setInt16(14, 64, true);
    [3, 2, 3, 2, 1, 1, 1, 1].forEach((d, i) => v.setBigInt64(16 + 8 * i, BigInt(d), true));
    [1, 0.9, 1.1, 2.2, 0, 0, 0, 0].forEach((p, i) => v.setFloat64(104 + 8 * i, p, true));
    v.setBigInt64(168, 544n, true);
    v.setFloat64(176, 0.5, true);
    v.setFloat64(184, 1, true);
    v.setInt32(348, 1, true);
    [0.9, 0, 0, 1, 0, 1.1, 0, 2, 0, 0, 2.2, 3].forEach((x, i) => v.setFloat64(400 + 8 * i, x, true));
    for (let i = 0; i < 12; i++) v.setFloat64(544 + 8 * i, i - 4, true);
    const img2 = decodeNifti(gzipSync(n2), 'n2.nii.gz');
    expect(img2.version).toBe(2);
    expect(img2.shape).toEqual([2, 3, 2]);
    expect(img2.spacingMm).toEqual([0.9, 1.1, 2.2]);
    expect(Array.from(img2.data)).toEqual(Array.from({ length: 12 }, (_, i) => (i - 4) * 0.5 + 1));
    expect(img2.affine.slice(0, 4)).toEqual([0.9, 0, 0, 1]);

    const be = new Uint8Array(352 + 8 * 4);
    const b = new DataView(be.buffer);
    b.setInt32(0, 348, false);
    [3, 2, 2, 2, 1, 1, 1, 1].forEach((d, i) => b.setInt16(40 + 2 * i, d, false));
    b.setInt16(70, 8, false); // int32
    b.setInt16(72, 32, false);
    [1, 2, 2, 2].forEach((p, i) => b.setFloat32(76 + 4 * i, p, false));
    b.setFloat32(108, 352, false);
    be.set([0x6e, 0x2b, 0x31, 0], 344);
    for (let i = 0; i < 8; i++) b.setInt32(352 + 4 * i, 1000 * i - 3, false);
    const img1 = decodeNifti(be, 'be.nii');
    expect(img1.littleEndian).toBe(false);
    expect(Array.from(img1.data)).toEqual(Array.from({ length: 8 }, (_, i) => 1000 * i - 3));
    expect(img1.affineSource).toBe('pixdim');
    expect(img1.spacingMm).toEqual([2, 2, 2]);
  });

  it('refuses broken files with a named error that names the file and the fault', async () => {
    const good = encodeNifti(
      ramp([4, 4, 4], 1, (i) => i),
      'x',
    );
    const badMagic = good.slice();
    badMagic.set([0x78, 0x78, 0x78, 0], 344);
    expect(() => decodeNifti(badMagic, 'm.nii')).toThrow(/m\.nii: wrong magic "xxx"/);
    expect(() => decodeNifti(good.slice(0, 200), 't.nii')).toThrow(NiftiFormatError);
    expect(() => decodeNifti(good.slice(0, 400), 't.nii')).toThrow(
      /t\.nii: truncated: header promises 608 bytes/,
    );
    const gz = gzipSync(good);
    expect(() => decodeNifti(gz.subarray(0, gz.length - 20), 'z.nii.gz')).toThrow(
      /z\.nii\.gz: corrupt or truncated gzip/,
    );
    expect(() =>
      decodeNifti(new TextEncoder().encode('hello world, not an image at all'.repeat(20)), 'h.nii'),
    ).toThrow(/not a NIfTI file/);
    const complex = good.slice();
    new DataView(complex.buffer).setInt16(70, 32, true);
    expect(() => decodeNifti(complex, 'c.nii')).toThrow(NiftiUnsupportedError);
    const path = join(dir, 'garbage.nii.gz');
    writeFileSync(path, 'garbage');
    await expect(readNifti(path)).rejects.toMatchObject({ code: 'NIFTI_INVALID' });
    await expect(readNifti(join(dir, 'absent.nii'))).rejects.toThrow(/file not found/);
  });

  it('writes only the sform when the affine is not a rotation scaled by the spacing (shear, or sform/pixdim disagree)', () => {
    const shear = [1, 0.5, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1];
    const img = decodeNifti(
      encodeNifti({ ...ramp([2, 2, 2], 1, (i) => i), spacingMm: [1, 1.118, 2] }, 's', { affine: shear }),
      's',
    );
    expect(img.qformCode).toBe(0);
    expect(img.affineSource).toBe('sform');
    img.affine.forEach((v, i) => expect(v).toBeCloseTo(shear[i], 6));
    const stretched = decodeNifti(
      encodeNifti(
        ramp([2, 2, 2], 1, (i) => i),
        't',
        { affine: [2, 0, 0, 0, 0, 1.25, 0, 0, 0, 0, 3, 0, 0, 0, 0, 1] },
      ),
      't',
    );
    expect(stretched.qformCode).toBe(0);
    expect(stretched.spacingMm).toEqual([0.75, 1.25, 3]);
  });

  it('refuses to write values an integer datatype cannot hold', () => {
    expect(() =>
      encodeNifti(
        ramp([2, 2, 2], 1, (i) => i * 100),
        'l.nii',
        { datatype: 'uint8' },
      ),
    ).toThrow(NiftiWriteError);
    expect(() =>
      encodeNifti(
        ramp([2, 2, 2], 1, (i) => i + 0.5),
        'l.nii',
        { datatype: 'int16' },
      ),
    ).toThrow(/does not fit int16/);
  });
});
