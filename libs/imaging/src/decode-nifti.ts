import { gunzipSync } from 'node:zlib';
import { NiftiFormatError, NiftiUnsupportedError } from './imaging-errors';
import { orientationCodes } from './nifti-affine';
import { NIFTI_DATATYPES } from './nifti-datatype';
import type { NiftiImage } from './nifti-image';
import { parseNiftiHeader } from './parse-nifti-header';

/** gzip members start with 0x1f 0x8b (RFC 1952, section 2.3.1); we trust the bytes, not the file extension. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decodes a NIfTI-1 or NIfTI-2 file (gzipped or not) from memory. `file` only names the source in errors.
 * Voxels come out as Float32Array with scl_slope/scl_inter applied (value = slope * stored + inter when slope is
 * a non-zero finite number, nifti1.h); dims 4..7 are folded into channels, stored channels-last.
 */
export function decodeNifti(raw: Uint8Array, file: string): NiftiImage {
  let bytes = raw;
  if (isGzip(raw)) {
    try {
      bytes = gunzipSync(raw);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new NiftiFormatError(file, `corrupt or truncated gzip stream (${why})`);
    }
  }
  const h = parseNiftiHeader(bytes, file);
  const [, nx, ny, nz] = [0, 1, 2, 3].map((i) => (i <= h.dim[0] ? h.dim[i] : 1));
  let channels = 1;
  for (let i = 4; i <= h.dim[0]; i++) channels *= h.dim[i];
  const voxels = nx * ny * nz;
  const count = voxels * channels;
  const { bytes: size } = NIFTI_DATATYPES[h.datatype];
  const need = h.voxOffset + count * size;
  if (bytes.length < need) {
    throw new NiftiFormatError(
      file,
      `truncated: header promises ${need} bytes of ${nx}x${ny}x${nz}x${channels} ${h.datatype}, file has ${bytes.length}`,
    );
  }
  if (count > 2 ** 31)
    throw new NiftiUnsupportedError(file, `${count} voxels is more than we hold in memory`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + h.voxOffset, count * size);
  const get = reader(view, h.datatype, h.littleEndian);
  const scale = h.sclSlope !== 0 && Number.isFinite(h.sclSlope);
  const slope = scale ? h.sclSlope : 1;
  const inter = scale && Number.isFinite(h.sclInter) ? h.sclInter : 0;
  const data = new Float32Array(count);
  // On disk the channels are planes (x fastest, then y, z, then dim 4); we store channels-last.
  for (let c = 0; c < channels; c++) {
    const base = c * voxels;
    for (let v = 0; v < voxels; v++) {
      data[v * channels + c] = get(base + v) * slope + inter;
    }
  }
  return {
    data,
    shape: [nx, ny, nz],
    spacingMm: [h.pixdim[1], h.pixdim[2], h.pixdim[3]],
    channels,
    version: h.version,
    datatype: h.datatype,
    affine: h.affine,
    affineSource: h.affineSource,
    orientation: orientationCodes(h.affine),
    qformCode: h.qformCode,
    sformCode: h.sformCode,
    sclSlope: h.sclSlope,
    sclInter: h.sclInter,
    description: h.description,
    littleEndian: h.littleEndian,
  };
}

function reader(view: DataView, dtype: NiftiImage['datatype'], le: boolean): (i: number) => number {
  switch (dtype) {
    case 'uint8':
      return (i) => view.getUint8(i);
    case 'int8':
      return (i) => view.getInt8(i);
    case 'int16':
      return (i) => view.getInt16(2 * i, le);
    case 'uint16':
      return (i) => view.getUint16(2 * i, le);
    case 'int32':
      return (i) => view.getInt32(4 * i, le);
    case 'uint32':
      return (i) => view.getUint32(4 * i, le);
    case 'float32':
      return (i) => view.getFloat32(4 * i, le);
    case 'float64':
      return (i) => view.getFloat64(8 * i, le);
    case 'int64':
      return (i) => Number(view.getBigInt64(8 * i, le));
    case 'uint64':
      return (i) => Number(view.getBigUint64(8 * i, le));
  }
}
