import { NiftiWriteError } from './imaging-errors';
import { type Affine, affineToQuatern, spacingAffine } from './nifti-affine';
import { integerRange, NIFTI_DATATYPES, type NiftiDatatype } from './nifti-datatype';
import { assertVolume, type Volume } from './volume';

export interface NiftiWriteOptions {
  /** On-disk datatype; default float32. Integer types refuse non-integral or out-of-range values. */
  datatype?: NiftiDatatype;
  /**
   * Voxel -> world (RAS+, mm), 4x4 row-major; default diag(spacingMm). Always written as sform; also as qform when
   * it is a rotation (+ flip) scaled by spacingMm, which qform can represent.
   */
  affine?: Affine;
  /** NIFTI_XFORM_* codes (nifti1.h); default 1 (scanner anatomical) for both. */
  qformCode?: number;
  sformCode?: number;
  description?: string;
}

const HEADER_BYTES = 348;
/** 348 header bytes + 4 extension bytes (all zero: no extensions), nifti1.h's minimum vox_offset. */
const VOX_OFFSET = 352;

/**
 * Encodes a Volume as an uncompressed single-file NIfTI-1 ("n+1"), little endian. Offsets follow nifti1.h.
 * Both qform (quaternion) and sform (srow) carry the affine, so readers using either agree; a non-orthogonal
 * affine gets qform_code 0. Channels (> 1) become dim[4], stored as planes as the format requires.
 */
export function encodeNifti(volume: Volume, file: string, options: NiftiWriteOptions = {}): Uint8Array {
  assertVolume(volume);
  const dtype = options.datatype ?? 'float32';
  const { code, bytes: size } = NIFTI_DATATYPES[dtype];
  const affine = options.affine ?? spacingAffine(volume.spacingMm);
  if (affine.length !== 16)
    throw new NiftiWriteError(file, `affine has ${affine.length} numbers, expected 16`);
  // qform scales its rotation by pixdim (nifti1.h method 2), so it can only carry an affine whose column lengths
  // are the spacing; files in the wild sometimes disagree (sform edited, pixdim not). Then only sform is written.
  const fromAffine = affineToQuatern(affine);
  const quat =
    fromAffine &&
    fromAffine.pixdim.every(
      (p, i) => Math.abs(p - volume.spacingMm[i]) <= 1e-4 * Math.max(1, volume.spacingMm[i]),
    )
      ? fromAffine
      : undefined;
  const [nx, ny, nz] = volume.shape;
  const channels = volume.channels;
  const voxels = nx * ny * nz;
  const out = new Uint8Array(VOX_OFFSET + voxels * channels * size);
  const view = new DataView(out.buffer);
  view.setInt32(0, HEADER_BYTES, true); // sizeof_hdr
  out[38] = 'r'.charCodeAt(0); // regular: ANALYZE legacy, nifti_io writes 'r'
  const dims = [channels > 1 ? 4 : 3, nx, ny, nz, channels > 1 ? channels : 1, 1, 1, 1];
  dims.forEach((d, i) => view.setInt16(40 + 2 * i, d, true));
  view.setInt16(70, code, true); // datatype
  view.setInt16(72, size * 8, true); // bitpix
  const pixdim = [
    quat ? quat.qfac : 1,
    volume.spacingMm[0],
    volume.spacingMm[1],
    volume.spacingMm[2],
    channels > 1 ? 1 : 0,
    0,
    0,
    0,
  ];
  pixdim.forEach((p, i) => view.setFloat32(76 + 4 * i, p, true));
  view.setFloat32(108, VOX_OFFSET, true); // vox_offset
  view.setFloat32(112, 1, true); // scl_slope: stored values are the values
  view.setFloat32(116, 0, true); // scl_inter
  out[123] = 2 | 8; // xyzt_units: NIFTI_UNITS_MM | NIFTI_UNITS_SEC
  const desc = (options.description ?? 'fedseg').slice(0, 79);
  for (let i = 0; i < desc.length; i++) out[148 + i] = desc.charCodeAt(i) & 0x7f;
  view.setInt16(252, quat ? (options.qformCode ?? 1) : 0, true);
  view.setInt16(254, options.sformCode ?? 1, true);
  if (quat) {
    [quat.b, quat.c, quat.d, ...quat.offset].forEach((q, i) => view.setFloat32(256 + 4 * i, q, true));
  }
  for (let i = 0; i < 12; i++) view.setFloat32(280 + 4 * i, affine[i], true);
  out.set([0x6e, 0x2b, 0x31, 0], 344); // magic "n+1\0"
  writeVoxels(view, volume, dtype, file);
  return out;
}

function writeVoxels(view: DataView, volume: Volume, dtype: NiftiDatatype, file: string): void {
  const { data, channels } = volume;
  const voxels = data.length / channels;
  const size = NIFTI_DATATYPES[dtype].bytes;
  const range = integerRange(dtype);
  const set = writer(view, dtype);
  for (let c = 0; c < channels; c++) {
    for (let v = 0; v < voxels; v++) {
      const x = data[v * channels + c];
      if (range && !(Number.isInteger(x) && x >= range[0] && x <= range[1])) {
        throw new NiftiWriteError(file, `value ${x} at voxel ${v} (channel ${c}) does not fit ${dtype}`);
      }
      set(VOX_OFFSET + (c * voxels + v) * size, x);
    }
  }
}

function writer(view: DataView, dtype: NiftiDatatype): (offset: number, x: number) => void {
  switch (dtype) {
    case 'uint8':
      return (o, x) => view.setUint8(o, x);
    case 'int8':
      return (o, x) => view.setInt8(o, x);
    case 'int16':
      return (o, x) => view.setInt16(o, x, true);
    case 'uint16':
      return (o, x) => view.setUint16(o, x, true);
    case 'int32':
      return (o, x) => view.setInt32(o, x, true);
    case 'uint32':
      return (o, x) => view.setUint32(o, x, true);
    case 'float32':
      return (o, x) => view.setFloat32(o, x, true);
    case 'float64':
      return (o, x) => view.setFloat64(o, x, true);
    case 'int64':
      return (o, x) => view.setBigInt64(o, BigInt(x), true);
    case 'uint64':
      return (o, x) => view.setBigUint64(o, BigInt(x), true);
  }
}
