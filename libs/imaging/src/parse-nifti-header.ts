import { NiftiFormatError, NiftiUnsupportedError } from './imaging-errors';
import { type Affine, quaternToAffine, spacingAffine } from './nifti-affine';
import { datatypeFromCode, NIFTI_DATATYPES, type NiftiDatatype } from './nifti-datatype';

/** The header fields the decoder uses, from either NIfTI-1 (348 bytes) or NIfTI-2 (540 bytes). */
export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  dim: number[];
  datatype: NiftiDatatype;
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  xyztUnits: number;
  qformCode: number;
  sformCode: number;
  affine: Affine;
  affineSource: 'sform' | 'qform' | 'pixdim';
  description: string;
}

/**
 * Parses the fixed-layout header. Offsets follow nifti1.h and nifti2.h field by field; endianness is found the
 * way nifti_io does, by which byte order makes sizeof_hdr equal 348 (NIfTI-1) or 540 (NIfTI-2).
 */
export function parseNiftiHeader(bytes: Uint8Array, file: string): NiftiHeader {
  if (bytes.length < 348) {
    throw new NiftiFormatError(file, `only ${bytes.length} bytes, shorter than a NIfTI-1 header (348)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizeLe = view.getInt32(0, true);
  const sizeBe = view.getInt32(0, false);
  const version: 1 | 2 | undefined =
    sizeLe === 348 || sizeBe === 348 ? 1 : sizeLe === 540 || sizeBe === 540 ? 2 : undefined;
  if (version === undefined) {
    throw new NiftiFormatError(file, `not a NIfTI file (sizeof_hdr is ${sizeLe}, expected 348 or 540)`);
  }
  const le = sizeLe === 348 || sizeLe === 540;
  const magic = readString(bytes, version === 1 ? 344 : 4, version === 1 ? 4 : 8);
  if (version === 1 && magic !== 'n+1') {
    if (magic === 'ni1') {
      throw new NiftiUnsupportedError(file, 'separate .hdr/.img pair; convert it to a single .nii(.gz) file');
    }
    throw new NiftiFormatError(file, `wrong magic ${JSON.stringify(magic)}, expected "n+1"`);
  }
  if (version === 2) {
    if (bytes.length < 540)
      throw new NiftiFormatError(file, `only ${bytes.length} bytes, shorter than a NIfTI-2 header (540)`);
    if (!magic.startsWith('n+2'))
      throw new NiftiFormatError(file, `wrong magic ${JSON.stringify(magic)}, expected "n+2"`);
  }
  const i16 = (o: number): number => view.getInt16(o, le);
  const i32 = (o: number): number => view.getInt32(o, le);
  const i64 = (o: number): number => Number(view.getBigInt64(o, le));
  const f32 = (o: number): number => view.getFloat32(o, le);
  const f64 = (o: number): number => view.getFloat64(o, le);

  const v1 = version === 1;
  const dim = Array.from({ length: 8 }, (_, i) => (v1 ? i16(40 + 2 * i) : i64(16 + 8 * i)));
  const pixdim = Array.from({ length: 8 }, (_, i) => (v1 ? f32(76 + 4 * i) : f64(104 + 8 * i)));
  const code = v1 ? i16(70) : i16(12);
  const datatype = datatypeFromCode(code);
  if (datatype === undefined) {
    throw new NiftiUnsupportedError(
      file,
      `datatype code ${code} is not a scalar type we read (${Object.keys(NIFTI_DATATYPES).join(', ')})`,
    );
  }
  const ndim = dim[0];
  if (!(ndim >= 1 && ndim <= 7)) throw new NiftiFormatError(file, `dim[0] = ${ndim}, expected 1..7`);
  for (let i = 1; i <= ndim; i++) {
    if (!(dim[i] >= 1)) throw new NiftiFormatError(file, `dim[${i}] = ${dim[i]}, expected >= 1`);
  }
  const voxOffset = v1 ? f32(108) : i64(168);
  // nifti1.h asks for >= 352 (header + 4 extension bytes); old writers used 348, which still decodes.
  const minOffset = v1 ? 348 : 540;
  if (!(voxOffset >= minOffset) || !Number.isInteger(voxOffset)) {
    throw new NiftiFormatError(file, `vox_offset ${voxOffset} is not an integer >= ${minOffset}`);
  }
  const xyztUnits = v1 ? bytes[123] : i32(500);
  // xyzt_units bits 0-2: 1 metre, 2 mm, 3 micron (nifti1.h NIFTI_UNITS_*); we report millimetres.
  const unit = xyztUnits & 7;
  const toMm = unit === 1 ? 1000 : unit === 3 ? 0.001 : 1;
  const spacing = [1, 2, 3].map((i) =>
    i <= ndim && pixdim[i] !== 0 && Number.isFinite(pixdim[i]) ? Math.abs(pixdim[i]) * toMm : 1,
  ) as [number, number, number];
  const qformCode = v1 ? i16(252) : i32(344);
  const sformCode = v1 ? i16(254) : i32(348);
  let affine: Affine;
  let affineSource: NiftiHeader['affineSource'];
  if (sformCode > 0) {
    const row = (o: number, step: number): number[] =>
      [0, 1, 2, 3].map((k) => (v1 ? f32(o + step * k) : f64(o + step * k)));
    affine = [
      ...(v1 ? row(280, 4) : row(400, 8)),
      ...(v1 ? row(296, 4) : row(432, 8)),
      ...(v1 ? row(312, 4) : row(464, 8)),
      0,
      0,
      0,
      1,
    ];
    for (let i = 0; i < 12; i++) affine[i] *= toMm;
    affineSource = 'sform';
  } else if (qformCode > 0) {
    const q = v1
      ? [f32(256), f32(260), f32(264), f32(268), f32(272), f32(276)]
      : [352, 360, 368, 376, 384, 392].map(f64);
    affine = quaternToAffine(
      q[0],
      q[1],
      q[2],
      [q[3] * toMm, q[4] * toMm, q[5] * toMm],
      spacing,
      pixdim[0] < 0 ? -1 : 1,
    );
    affineSource = 'qform';
  } else {
    affine = spacingAffine(spacing);
    affineSource = 'pixdim';
  }
  return {
    version,
    littleEndian: le,
    dim,
    datatype,
    pixdim: [pixdim[0], ...spacing, ...pixdim.slice(4)],
    voxOffset,
    sclSlope: v1 ? f32(112) : f64(176),
    sclInter: v1 ? f32(116) : f64(184),
    xyztUnits,
    qformCode,
    sformCode,
    affine,
    affineSource,
    description: readString(bytes, v1 ? 148 : 240, 80),
  };
}

function readString(bytes: Uint8Array, offset: number, length: number): string {
  let out = '';
  for (let i = offset; i < offset + length && bytes[i] !== 0; i++) out += String.fromCharCode(bytes[i]);
  return out;
}
