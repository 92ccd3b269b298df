/**
 * A three-site consortium built from real anatomy that ships with Debian (issue 18): the Colin27 single-subject
 * T1 brain (Holmes et al., 1998, J Comput Assist Tomogr 22:324) as packaged in Debian's `mricron-data`
 * (/usr/share/mricron/templates/ch2.nii.gz, 181x217x181 at 1 mm) and its brain extraction (ch2bet.nii.gz),
 * whose non-zero voxels are the label: task "brain", 2 classes. Debian's copyright file lists the package
 * under BSD-3-clause (Chris Rorden); nothing is copied into this repository, the files are read where the
 * package installs them (`apt-get install mricron-data`, 16 MB; scripts/ci/install-system-deps.sh does it in CI).
 *
 * Sites differ as hospitals do: voxel spacing (1, 1.5 and 2 mm; 4, 5 and 6 mm for the tiny CI variant) and
 * intensity scale (8-bit, 12-bit-like with an offset, float 0-1), each case with its own smooth bias field and
 * noise. Cases differ by a random field of view (crop), a zoom of +-8% per axis (head size), and a left-right
 * flip, all applied to image and label together; images are resampled trilinearly, labels by nearest neighbour.
 * One subject cannot show anatomical variety: this tests resampling, fingerprints and plans on real anatomy,
 * not generalization across subjects.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createRng,
  cropLabel,
  cropVolume,
  readNifti,
  resampleLabelToGrid,
  resampleVolumeToGrid,
  writeNifti,
  type DatasetJson,
  type Shape3,
  type Volume,
} from '@fedseg/imaging';

export const MRICRON_TEMPLATES = '/usr/share/mricron/templates';

export interface AnatomySiteProfile {
  spacingMm: [number, number, number];
  /** Stored intensity = raw T1 (0-254) * scale + offset, before bias and noise. */
  intensityScale: number;
  intensityOffset: number;
  /** Noise std as a fraction of the scaled white-matter-ish level (100 raw). */
  noise: number;
}

/** Full-size sites (about 160x200x160 voxels at 1 mm, as issue 18's brains) and the tiny CI variant. */
export const ANATOMY_SITES: Record<'full' | 'tiny', AnatomySiteProfile[]> = {
  full: [
    { spacingMm: [1, 1, 1], intensityScale: 1, intensityOffset: 0, noise: 0.02 },
    { spacingMm: [1.5, 1.5, 1.5], intensityScale: 12, intensityOffset: 100, noise: 0.03 },
    { spacingMm: [2, 2, 2], intensityScale: 1 / 254, intensityOffset: 0, noise: 0.04 },
  ],
  tiny: [
    { spacingMm: [4, 4, 4], intensityScale: 1, intensityOffset: 0, noise: 0.02 },
    { spacingMm: [5, 5, 5], intensityScale: 12, intensityOffset: 100, noise: 0.03 },
    { spacingMm: [6, 6, 6], intensityScale: 1 / 254, intensityOffset: 0, noise: 0.04 },
  ],
};

export interface AnatomyConsortiumOptions {
  outDir: string;
  variant: 'full' | 'tiny';
  casesPerSite: number;
  seed: number;
  /** Where ch2.nii.gz and ch2bet.nii.gz are; default MRICRON_TEMPLATES. */
  sourceDir?: string;
}

/** Writes `site-01/` .. `site-03/` in MSD layout (dataset.json, imagesTr/, labelsTr/); deterministic per seed. */
export async function buildAnatomyConsortium(
  options: AnatomyConsortiumOptions,
): Promise<{ siteDirs: string[] }> {
  const sourceDir = options.sourceDir ?? MRICRON_TEMPLATES;
  const t1 = await readNifti(join(sourceDir, 'ch2.nii.gz'));
  const bet = await readNifti(join(sourceDir, 'ch2bet.nii.gz'));
  const brain = Uint8Array.from(bet.data, (v) => (v > 0 ? 1 : 0));
  const source: Volume = { data: t1.data, shape: t1.shape, spacingMm: t1.spacingMm, channels: 1 };
  const siteDirs: string[] = [];
  for (const [s, profile] of ANATOMY_SITES[options.variant].entries()) {
    const dir = join(options.outDir, `site-${String(s + 1).padStart(2, '0')}`);
    siteDirs.push(dir);
    await mkdir(join(dir, 'imagesTr'), { recursive: true });
    await mkdir(join(dir, 'labelsTr'), { recursive: true });
    const training: DatasetJson['training'] = [];
    for (let c = 0; c < options.casesPerSite; c++) {
      const rng = createRng(options.seed * 1_000_003 + s * 10_007 + c);
      const { image, label } = anatomyCase(source, brain, profile, rng);
      const id = `colin27_${String(c).padStart(3, '0')}`;
      await writeNifti(join(dir, 'imagesTr', `${id}.nii.gz`), image, {
        description: 'Colin27 T1 (mricron-data)',
      });
      await writeNifti(
        join(dir, 'labelsTr', `${id}.nii.gz`),
        { data: Float32Array.from(label), shape: image.shape, spacingMm: image.spacingMm, channels: 1 },
        { datatype: 'uint8', description: 'Colin27 brain mask (ch2bet > 0)' },
      );
      training.push({ image: `./imagesTr/${id}.nii.gz`, label: `./labelsTr/${id}.nii.gz` });
    }
    const json: DatasetJson & { fedseg_anatomy: AnatomySiteProfile } = {
      name: `fedseg-colin27-site-${s + 1}`,
      description:
        'Colin27 T1 brain and brain mask from Debian mricron-data (BSD-3-clause per debian/copyright), resampled, cropped, zoomed, flipped and rescaled per case; see scripts/anatomy.',
      tensorImageSize: '3D',
      modality: { '0': 'T1' },
      labels: { '0': 'background', '1': 'brain' },
      numTraining: options.casesPerSite,
      training,
      test: [],
      fedseg_anatomy: profile,
    };
    await writeFile(join(dir, 'dataset.json'), JSON.stringify(json, null, 2) + '\n');
  }
  return { siteDirs };
}

/** One case: crop the field of view, zoom and resample to the site's spacing, flip, rescale, bias, noise. */
function anatomyCase(
  source: Volume,
  brain: Uint8Array,
  profile: AnatomySiteProfile,
  rng: ReturnType<typeof createRng>,
): { image: Volume; label: Uint8Array } {
  // Field of view: drop up to 12 voxels (mm) on each side of each axis; Colin27 has air margins wider than that.
  const start = [0, 1, 2].map(() => rng.int(13)) as Shape3;
  const shape = source.shape.map((n, a) => n - start[a] - rng.int(13)) as Shape3;
  const box = { start, shape };
  // Zoom: a head 8% larger reads like a source voxel 8% larger, so pretend the source spacing is zoom mm.
  const zoom = [0, 1, 2].map(() => rng.uniform(0.92, 1.08));
  const fov: Volume = {
    ...cropVolume(source, box),
    spacingMm: zoom.map((z, a) => z * source.spacingMm[a]) as Shape3,
  };
  const fovLabel = cropLabel(brain, source.shape, box);
  const out = shape.map((n, a) =>
    Math.max(1, Math.round((n * fov.spacingMm[a]) / profile.spacingMm[a])),
  ) as Shape3;
  const image = resampleVolumeToGrid(fov, out, profile.spacingMm);
  const label = resampleLabelToGrid(fovLabel, shape, fov.spacingMm as Shape3, out, profile.spacingMm);
  const flip = rng.next() < 0.5;
  const [nx, ny, nz] = out;
  // Smooth multiplicative bias field (scanner coil inhomogeneity), +-10% across the volume.
  const bias = [rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)];
  const noiseStd = profile.noise * 100 * profile.intensityScale;
  const data = new Float32Array(image.data.length);
  const lab = new Uint8Array(label.length);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        const src = x + nx * (y + ny * z);
        const dst = (flip ? nx - 1 - x : x) + nx * (y + ny * z);
        const b =
          1 + bias[0] * (x / nx - 0.5) * 2 + bias[1] * (y / ny - 0.5) * 2 + bias[2] * (z / nz - 0.5) * 2;
        const raw = image.data[src];
        // Air stays exactly zero (as on real scanners after reconstruction masks), so the body crop finds the head.
        data[dst] =
          raw > 0 ? raw * b * profile.intensityScale + profile.intensityOffset + noiseStd * rng.normal() : 0;
        lab[dst] = label[src];
      }
  return { image: { data, shape: out, spacingMm: [...profile.spacingMm], channels: 1 }, label: lab };
}
