import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import type { Dataset, DatasetCase } from './dataset';
import { FedsegError } from '@fedseg/protocol';
import { NiftiFormatError, NiftiUnsupportedError } from './imaging-errors';
import { sameSpacing } from './load-case';
import type { NiftiImage } from './nifti-image';
import { readNifti } from './read-nifti';

/** One fault in a dataset: the file (relative to the dataset folder) and what is wrong with it, in words. */
export interface DataProblem {
  file: string;
  fault: string;
}

/** What check-data prints per case (all local: file names and intensities never leave the site). */
export interface CaseSummary {
  id: string;
  shape: [number, number, number] | undefined;
  spacingMm: [number, number, number] | undefined;
  channels: number;
  orientation: string | undefined;
  /** Over all finite image voxels and channels. */
  intensity: { min: number; max: number; mean: number } | undefined;
  /** Voxels per label value present in the label map. */
  classVoxels: Map<number, number>;
  problems: number;
}

/** Largest origin or direction difference (mm) tolerated between image and label affines. */
const AFFINE_TOLERANCE_MM = 1e-2;

/**
 * Checks one case without throwing: every file readable, image finite, label integral and within the declared
 * classes, image and label agreeing on shape, spacing and affine (orientation + origin), channels matching the
 * declared modalities. Problems are appended to `problems`; the summary holds what could be measured.
 */
export async function checkCase(
  dataset: Dataset,
  entry: DatasetCase,
  problems: DataProblem[],
): Promise<CaseSummary> {
  const before = problems.length;
  const rel = (p: string): string => relative(dataset.root, p) || p;
  const report = (file: string, fault: string): void => {
    problems.push({ file: rel(file), fault });
  };
  const summary: CaseSummary = {
    id: entry.id,
    shape: undefined,
    spacingMm: undefined,
    channels: 0,
    orientation: undefined,
    intensity: undefined,
    classVoxels: new Map(),
    problems: 0,
  };
  const images: NiftiImage[] = [];
  if (entry.imagePaths.length === 0 && entry.labelPath) report(entry.labelPath, 'label without an image');
  for (const path of entry.imagePaths) {
    if (!existsSync(path)) {
      report(path, 'image file is missing (listed in dataset.json)');
      continue;
    }
    const img = await tryRead(path, report);
    if (img) images.push(img);
  }
  let label: NiftiImage | undefined;
  if (entry.imagePaths.length > 0 && !entry.labelPath) {
    report(entry.imagePaths[0], `no label found for case ${entry.id}`);
  } else if (entry.labelPath && !existsSync(entry.labelPath)) {
    report(entry.labelPath, `label file is missing for case ${entry.id}`);
  } else if (entry.labelPath) {
    label = await tryRead(entry.labelPath, report);
  }
  const image = images[0];
  if (image) {
    summary.shape = image.shape;
    summary.spacingMm = image.spacingMm;
    summary.orientation = image.orientation;
    summary.channels = images.reduce((n, i) => n + i.channels, 0);
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    let finite = 0;
    images.forEach((img, k) => {
      let nan = 0;
      let inf = 0;
      for (const x of img.data) {
        if (Number.isNaN(x)) nan++;
        else if (!Number.isFinite(x)) inf++;
        else {
          if (x < min) min = x;
          if (x > max) max = x;
          sum += x;
          finite++;
        }
      }
      if (nan + inf > 0)
        report(
          entry.imagePaths[k],
          `${nan} NaN and ${inf} infinite voxel value(s); fix or mask them before training`,
        );
      if (
        k > 0 &&
        (img.shape.join() !== image.shape.join() || !sameSpacing(img.spacingMm, image.spacingMm))
      ) {
        report(
          entry.imagePaths[k],
          `modality shape ${img.shape.join('x')} / spacing ${fmt(img.spacingMm)} mm differs from ${rel(entry.imagePaths[0])}`,
        );
      }
    });
    if (finite > 0) summary.intensity = { min, max, mean: sum / finite };
    if (
      dataset.modalities.length > 0 &&
      images.length === entry.imagePaths.length &&
      summary.channels !== dataset.modalities.length
    ) {
      report(
        entry.imagePaths[0],
        `${summary.channels} channel(s) but dataset.json declares ${dataset.modalities.length} modalities (${dataset.modalities.join(', ')})`,
      );
    }
  }
  if (label && entry.labelPath) {
    checkLabel(dataset, label, entry.labelPath, summary, report);
    if (image) compareGeometry(image, label, entry.labelPath, report);
  }
  summary.problems = problems.length - before;
  return summary;
}

async function tryRead(
  path: string,
  report: (file: string, fault: string) => void,
): Promise<NiftiImage | undefined> {
  try {
    return await readNifti(path);
  } catch (err) {
    if (err instanceof NiftiFormatError || err instanceof NiftiUnsupportedError) report(path, err.fault);
    else if (err instanceof FedsegError) report(path, err.message);
    else report(path, `unreadable (${err instanceof Error ? err.message : String(err)})`);
    return undefined;
  }
}

function checkLabel(
  dataset: Dataset,
  label: NiftiImage,
  path: string,
  summary: CaseSummary,
  report: (file: string, fault: string) => void,
): void {
  if (label.channels !== 1) report(path, `label has ${label.channels} channels, expected 1`);
  let nonInteger = 0;
  for (const x of label.data) {
    if (!Number.isInteger(x)) {
      nonInteger++;
      continue;
    }
    summary.classVoxels.set(x, (summary.classVoxels.get(x) ?? 0) + 1);
  }
  if (nonInteger > 0)
    report(
      path,
      `${nonInteger} label voxel(s) are not integers (NaN or fractional); labels must be class indices`,
    );
  const declared = dataset.labels?.map((l) => l.value);
  const allowed = (v: number): boolean => (declared ? declared.includes(v) : v >= 0 && v <= 255);
  const bad = [...summary.classVoxels.entries()].filter(([v]) => !allowed(v)).sort((a, b) => a[0] - b[0]);
  if (bad.length > 0) {
    const list = bad.map(([v, n]) => `${v} (${n} voxel${n === 1 ? '' : 's'})`).join(', ');
    report(
      path,
      `label value(s) ${list} not among the declared classes ${declared ? declared.join(', ') : '0..255'}`,
    );
  }
}

function compareGeometry(
  image: NiftiImage,
  label: NiftiImage,
  path: string,
  report: (file: string, fault: string) => void,
): void {
  if (image.shape.join() !== label.shape.join()) {
    report(path, `shape ${label.shape.join('x')} differs from the image's ${image.shape.join('x')}`);
    return;
  }
  if (!sameSpacing(image.spacingMm, label.spacingMm)) {
    report(path, `spacing ${fmt(label.spacingMm)} mm differs from the image's ${fmt(image.spacingMm)} mm`);
    return;
  }
  if (image.orientation !== label.orientation) {
    report(path, `orientation ${label.orientation} differs from the image's ${image.orientation}`);
    return;
  }
  const worst = Math.max(...image.affine.slice(0, 12).map((v, i) => Math.abs(v - label.affine[i])));
  if (worst > AFFINE_TOLERANCE_MM) {
    report(
      path,
      `affine (origin or direction) differs from the image's by up to ${worst.toFixed(3)} mm; the label is not aligned`,
    );
  }
}

function fmt(v: readonly number[]): string {
  return v.map((x) => Number(x.toFixed(3))).join('x');
}
