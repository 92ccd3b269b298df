import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetJson } from './dataset-json';
import { phantomCase, PHANTOM_LABELS } from './phantom-case';
import { derivePhantomSites, type PhantomSiteProfile } from './phantom-site-profile';
import { createRng } from './rng';
import { writeNifti } from './write-nifti';

export interface ConsortiumOptions {
  outDir: string;
  sites: number;
  casesPerSite: number;
  /** Volume shape [nx, ny, nz], the same at every site (so one model input size serves all). */
  shape: [number, number, number];
  seed: number;
  /** Non-IID strength: 0 = every site is the reference scanner with the same case mix, 1 = strongly non-IID. Default 1. */
  heterogeneity?: number;
  /** Per-site overrides of any knob (index = site), applied after derivation. */
  siteOverrides?: ReadonlyArray<Partial<PhantomSiteProfile> | undefined>;
  /** Cases per site as a list, overriding casesPerSite (quantity skew between hospitals). */
  casesBySite?: readonly number[];
  /** Modalities (channels) per image, written as 4D MSD images; default 1 ("MRI"). */
  modalities?: number;
}

export interface Consortium {
  siteDirs: string[];
  profiles: PhantomSiteProfile[];
}

/**
 * Writes one MSD-layout folder per site (`site-01/`, ...: dataset.json, imagesTr/, labelsTr/ with .nii.gz),
 * labels 0 background, 1 organ, 2 lesion. Deterministic: the same options give byte-identical files.
 * Each site's profile is also stored in dataset.json under `fedseg_phantom`, so the knobs travel with the data.
 */
export async function generateConsortium(options: ConsortiumOptions): Promise<Consortium> {
  const heterogeneity = options.heterogeneity ?? 1;
  const modalities = options.modalities ?? 1;
  const profiles = derivePhantomSites(options.sites, options.seed, heterogeneity).map((p, s) => ({
    ...p,
    ...(options.siteOverrides?.[s] ?? {}),
  }));
  const siteDirs: string[] = [];
  for (let s = 0; s < options.sites; s++) {
    const dir = join(options.outDir, `site-${String(s + 1).padStart(2, '0')}`);
    siteDirs.push(dir);
    await mkdir(join(dir, 'imagesTr'), { recursive: true });
    await mkdir(join(dir, 'labelsTr'), { recursive: true });
    const cases = options.casesBySite?.[s] ?? options.casesPerSite;
    const training: DatasetJson['training'] = [];
    for (let c = 0; c < cases; c++) {
      const id = `case_${String(c).padStart(3, '0')}`;
      const rng = createRng(options.seed * 1_000_003 + s * 10_007 + c);
      const { image, label } = phantomCase(profiles[s], options.shape, modalities, rng);
      await writeNifti(join(dir, 'imagesTr', `${id}.nii.gz`), image, { description: 'fedseg phantom' });
      await writeNifti(
        join(dir, 'labelsTr', `${id}.nii.gz`),
        { data: Float32Array.from(label), shape: image.shape, spacingMm: image.spacingMm, channels: 1 },
        { datatype: 'uint8', description: 'fedseg phantom labels' },
      );
      training.push({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` });
    }
    const json: DatasetJson & { fedseg_phantom: PhantomSiteProfile } = {
      name: `fedseg-phantom-site-${s + 1}`,
      description: 'Synthetic phantoms (deformed ellipsoid organ with lesions); no patient data.',
      tensorImageSize: modalities > 1 ? '4D' : '3D',
      modality: Object.fromEntries(
        Array.from({ length: modalities }, (_, m) => [String(m), modalities > 1 ? `MRI-${m}` : 'MRI']),
      ),
      labels: Object.fromEntries(Object.entries(PHANTOM_LABELS).map(([name, v]) => [String(v), name])),
      numTraining: cases,
      training,
      test: [],
      fedseg_phantom: profiles[s],
    };
    await writeFile(join(dir, 'dataset.json'), JSON.stringify(json, null, 2) + '\n');
  }
  return { siteDirs, profiles };
}
