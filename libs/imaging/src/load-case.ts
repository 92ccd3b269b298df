import { existsSync } from 'node:fs';
import type { Dataset } from './dataset';
import { CaseInvalidError } from './imaging-errors';
import type { NiftiImage } from './nifti-image';
import { readNifti } from './read-nifti';
import type { Volume } from './volume';

/** Relative tolerance for "same spacing": headers store float32, writers round differently. */
export const SPACING_TOLERANCE = 1e-3;

export function sameSpacing(a: readonly number[], b: readonly number[]): boolean {
  return a.every(
    (x, i) => Math.abs(x - b[i]) <= SPACING_TOLERANCE * Math.max(1, Math.abs(x), Math.abs(b[i])),
  );
}

/**
 * Reads one case: its modalities as channels (channels-last Volume) and its label map as Uint8Array.
 * Throws CaseInvalidError when files are missing, image and label disagree on shape or spacing, the channel
 * count differs from the declared modalities, or a label value is not a declared class; NiftiFormatError when
 * a file cannot be decoded.
 */
export async function loadCase(
  dataset: Dataset,
  caseId: string,
): Promise<{ image: Volume; label: Uint8Array }> {
  const entry = dataset.cases.find((c) => c.id === caseId);
  if (!entry) throw new CaseInvalidError(caseId, `not in dataset ${dataset.name}`);
  if (entry.imagePaths.length === 0) throw new CaseInvalidError(caseId, 'label without image');
  for (const p of entry.imagePaths)
    if (!existsSync(p)) throw new CaseInvalidError(caseId, `image ${p} is missing`);
  if (!entry.labelPath || !existsSync(entry.labelPath))
    throw new CaseInvalidError(caseId, `label ${entry.labelPath ?? '(none listed)'} is missing`);
  const parts: NiftiImage[] = [];
  for (const p of entry.imagePaths) parts.push(await readNifti(p));
  const labelImage = await readNifti(entry.labelPath);
  const image = stackChannels(parts, caseId);
  if (image.shape.join() !== labelImage.shape.join()) {
    throw new CaseInvalidError(
      caseId,
      `image shape ${image.shape.join('x')} differs from label shape ${labelImage.shape.join('x')}`,
    );
  }
  if (!sameSpacing(image.spacingMm, labelImage.spacingMm)) {
    throw new CaseInvalidError(
      caseId,
      `image spacing ${image.spacingMm.join('x')} mm differs from label spacing ${labelImage.spacingMm.join('x')} mm`,
    );
  }
  if (dataset.modalities.length > 0 && image.channels !== dataset.modalities.length) {
    throw new CaseInvalidError(
      caseId,
      `${image.channels} channel(s), dataset declares ${dataset.modalities.length} modalities`,
    );
  }
  let nonFinite = 0;
  for (const x of image.data) if (!Number.isFinite(x)) nonFinite++;
  if (nonFinite > 0)
    throw new CaseInvalidError(caseId, `${nonFinite} NaN or infinite image value(s); run check-data`);
  if (labelImage.channels !== 1)
    throw new CaseInvalidError(caseId, `label has ${labelImage.channels} channels, expected 1`);
  const allowed = new Set(dataset.labels?.map((l) => l.value) ?? Array.from({ length: 256 }, (_, i) => i));
  const label = new Uint8Array(labelImage.data.length);
  for (let i = 0; i < label.length; i++) {
    const v = labelImage.data[i];
    if (!allowed.has(v))
      throw new CaseInvalidError(caseId, `label value ${v} at voxel ${i} is not a declared class`);
    label[i] = v;
  }
  return { image, label };
}

/** Interleaves single-channel volumes (one file per modality) into one channels-last Volume. */
function stackChannels(parts: NiftiImage[], caseId: string): Volume {
  if (parts.length === 1) {
    const p = parts[0];
    return { data: p.data, shape: p.shape, spacingMm: p.spacingMm, channels: p.channels };
  }
  const first = parts[0];
  for (const p of parts) {
    if (
      p.channels !== 1 ||
      p.shape.join() !== first.shape.join() ||
      !sameSpacing(p.spacingMm, first.spacingMm)
    ) {
      throw new CaseInvalidError(caseId, 'modality files differ in shape, spacing or channel count');
    }
  }
  const channels = parts.length;
  const data = new Float32Array(first.data.length * channels);
  parts.forEach((p, c) => {
    for (let v = 0; v < p.data.length; v++) data[v * channels + c] = p.data[v];
  });
  return { data, shape: first.shape, spacingMm: first.spacingMm, channels };
}
