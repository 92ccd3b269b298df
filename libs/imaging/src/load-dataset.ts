import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Dataset, DatasetCase, DatasetLabel } from './dataset';
import { DatasetJson } from './dataset-json';
import { DatasetInvalidError } from './imaging-errors';

const NIFTI_NAME = /\.nii(\.gz)?$/;
/** nnU-Net names one file per modality `<case>_0000.nii.gz`, `<case>_0001.nii.gz`, ... */
const MODALITY_SUFFIX = /_(\d{4})$/;

/**
 * Discovers a dataset: the MSD layout (dataset.json + imagesTr/ + labelsTr/) or a plain `images/` + `labels/`
 * folder (an optional dataset.json there declares labels and modalities). Files are matched by case id, the
 * file name without .nii/.nii.gz and without a `_0000` modality suffix. It does not open the volumes; missing
 * files stay visible (labelPath undefined, imagePaths empty) for check-data to report.
 * Throws DatasetInvalidError when the folder is missing, has neither layout, or dataset.json is malformed.
 */
export async function loadDataset(dir: string): Promise<Dataset> {
  const root = resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory())
    throw new DatasetInvalidError(dir, 'not a folder; point check-data at a dataset folder');
  const jsonPath = join(root, 'dataset.json');
  const json = existsSync(jsonPath) ? await readDatasetJson(jsonPath, dir) : undefined;
  if (existsSync(join(root, 'imagesTr'))) {
    if (!json)
      throw new DatasetInvalidError(
        dir,
        'imagesTr/ without dataset.json; the MSD layout needs one (labels, modality, training)',
      );
    return msdDataset(root, json);
  }
  if (existsSync(join(root, 'images'))) return plainDataset(root, json);
  throw new DatasetInvalidError(dir, 'neither dataset.json + imagesTr/ (MSD) nor images/ + labels/ found');
}

async function readDatasetJson(path: string, dir: string): Promise<DatasetJson> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new DatasetInvalidError(
      dir,
      `dataset.json is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  const result = DatasetJson.safeParse(parsed);
  if (!result.success) {
    const fields = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new DatasetInvalidError(dir, `dataset.json does not follow the MSD format (${fields})`);
  }
  return result.data;
}

function declared(json: DatasetJson | undefined): {
  modalities: string[];
  labels: DatasetLabel[] | undefined;
} {
  const modalities = json?.modality
    ? Object.entries(json.modality)
        .sort((a, b) => Number(a[0]) - Number(b[0]))
        .map(([, name]) => name)
    : [];
  const labels = json
    ? Object.entries(json.labels)
        .map(([v, name]) => ({ value: Number(v), name }))
        .sort((a, b) => a.value - b.value)
    : undefined;
  return { modalities, labels };
}

async function niftiFiles(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir)).filter((f) => NIFTI_NAME.test(f) && !f.startsWith('.')).sort();
}

function caseId(file: string): string {
  return basename(file).replace(NIFTI_NAME, '');
}

/** Per-modality files `<id>_0000...` in `folder` for `id`, in channel order. */
function modalityFiles(files: string[], id: string): string[] {
  return files.filter(
    (f) => caseId(f).replace(MODALITY_SUFFIX, '') === id && MODALITY_SUFFIX.test(caseId(f)),
  );
}

async function msdDataset(root: string, json: DatasetJson): Promise<Dataset> {
  const imagesDir = join(root, 'imagesTr');
  const labelsDir = join(root, 'labelsTr');
  const images = await niftiFiles(imagesDir);
  const labels = await niftiFiles(labelsDir);
  const cases = new Map<string, DatasetCase>();
  for (const entry of json.training) {
    const imagePath = resolve(root, entry.image);
    const id = caseId(imagePath);
    // MSD lists one (possibly 4D) file; nnU-Net-style folders list the id and store `_0000`... files.
    const perModality = existsSync(imagePath) ? [] : modalityFiles(images, id).map((f) => join(imagesDir, f));
    cases.set(id, {
      id,
      imagePaths: perModality.length ? perModality : [imagePath],
      labelPath: resolve(root, entry.label),
    });
  }
  // Images present but not listed still count: their label is looked up by name so nothing is silently skipped.
  for (const f of images) {
    const id = caseId(f).replace(MODALITY_SUFFIX, '');
    if (cases.has(id) || cases.has(caseId(f))) continue;
    const perModality = modalityFiles(images, id);
    const label = labels.find((l) => caseId(l) === id);
    cases.set(id, {
      id,
      imagePaths: perModality.length ? perModality.map((m) => join(imagesDir, m)) : [join(imagesDir, f)],
      labelPath: label ? join(labelsDir, label) : undefined,
    });
  }
  for (const l of labels) {
    const id = caseId(l);
    if (!cases.has(id) && ![...cases.values()].some((c) => c.labelPath === join(labelsDir, l))) {
      cases.set(id, { id, imagePaths: [], labelPath: join(labelsDir, l) });
    }
  }
  return {
    root,
    layout: 'msd',
    name: json.name ?? basename(root),
    ...declared(json),
    cases: sortCases(cases),
  };
}

async function plainDataset(root: string, json: DatasetJson | undefined): Promise<Dataset> {
  const imagesDir = join(root, 'images');
  const labelsDir = join(root, 'labels');
  const images = await niftiFiles(imagesDir);
  const labels = await niftiFiles(labelsDir);
  const cases = new Map<string, DatasetCase>();
  for (const f of images) {
    const id = caseId(f).replace(MODALITY_SUFFIX, '');
    const c = cases.get(id) ?? { id, imagePaths: [], labelPath: undefined };
    c.imagePaths.push(join(imagesDir, f));
    cases.set(id, c);
  }
  for (const l of labels) {
    const id = caseId(l);
    const c = cases.get(id) ?? { id, imagePaths: [], labelPath: undefined };
    c.labelPath = join(labelsDir, l);
    cases.set(id, c);
  }
  return {
    root,
    layout: 'plain',
    name: json?.name ?? basename(root),
    ...declared(json),
    cases: sortCases(cases),
  };
}

function sortCases(cases: Map<string, DatasetCase>): DatasetCase[] {
  return [...cases.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
