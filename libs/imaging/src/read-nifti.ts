import { readFile } from 'node:fs/promises';
import { decodeNifti } from './decode-nifti';
import { NiftiFormatError } from './imaging-errors';
import type { NiftiImage } from './nifti-image';

/** Reads a .nii or .nii.gz file (NIfTI-1 or -2). Throws NiftiFormatError / NiftiUnsupportedError naming the file. */
export async function readNifti(path: string): Promise<NiftiImage> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new NiftiFormatError(
      path,
      code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(err)})`,
    );
  }
  return decodeNifti(new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength), path);
}
