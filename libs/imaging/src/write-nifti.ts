import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeNifti, type NiftiWriteOptions } from './encode-nifti';
import type { Volume } from './volume';

/**
 * Writes a NIfTI-1 file; gzipped when the path ends in .gz (the usual .nii.gz). Parent folders are created.
 * zlib level 6: the default of gzip(1), a fair size/speed trade for volumes written once per case.
 */
export async function writeNifti(
  path: string,
  volume: Volume,
  options: NiftiWriteOptions = {},
): Promise<void> {
  const bytes = encodeNifti(volume, path, options);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, path.endsWith('.gz') ? gzipSync(bytes, { level: 6 }) : bytes);
}
