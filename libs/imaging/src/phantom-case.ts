import type { PhantomSiteProfile } from './phantom-site-profile';
import type { Rng } from './rng';
import type { Volume } from './volume';

/** Label values of the phantoms (MSD dataset.json "labels"). */
export const PHANTOM_LABELS = { background: 0, organ: 1, lesion: 2 } as const;

/** Intensities before the scanner's scale/offset: air, body tissue, organ (x contrast), lesion (relative to organ). */
const AIR = 0;
const TISSUE = 0.35;
const ORGAN_DELTA = 0.45;
const LESION_DELTA = -0.3;
/** Width of the soft (partial-volume) edge, in units of the normalised ellipsoid radius. */
const EDGE = 0.04;

interface Ellipsoid {
  centre: [number, number, number];
  radii: [number, number, number];
  /** Coefficients of a smooth low-order deformation of the radius, see `inside`. */
  warp: number[];
}

/**
 * One synthetic case in voxel space: a body ellipsoid (tissue in air), an organ-like deformed ellipsoid
 * (label 1) and Poisson(lesionRate) small deformed spheres inside it (label 2), then the site's contrast,
 * smooth multiplicative bias field, Gaussian noise, intensity scale and offset. Geometry is drawn in units of
 * the field of view, so every site's organ fits whatever its spacing.
 */
export function phantomCase(
  profile: PhantomSiteProfile,
  shape: readonly [number, number, number],
  channels: number,
  rng: Rng,
): { image: Volume; label: Uint8Array } {
  const [nx, ny, nz] = shape;
  const organ: Ellipsoid = {
    centre: [jitter(rng, 0.08), jitter(rng, 0.08), jitter(rng, 0.08)],
    radii: [0, 1, 2].map(() => profile.organScale * rng.uniform(0.8, 1.15)) as [number, number, number],
    warp: Array.from({ length: 4 }, () => rng.uniform(-0.25, 0.25)),
  };
  const lesions: Ellipsoid[] = [];
  const count = poisson(rng, profile.lesionRate);
  for (let k = 0; k < count; k++) {
    const size = profile.lesionSize * rng.uniform(0.7, 1.3);
    // Centre at normalised organ radius <= 0.5 so the lesion stays (mostly) inside the organ.
    const dir = [rng.normal(), rng.normal(), rng.normal()];
    const norm = Math.hypot(dir[0], dir[1], dir[2]) || 1;
    const rad = 0.5 * Math.cbrt(rng.next());
    lesions.push({
      centre: [0, 1, 2].map((i) => organ.centre[i] + (dir[i] / norm) * rad * organ.radii[i]) as [
        number,
        number,
        number,
      ],
      radii: [0, 1, 2].map((i) => size * organ.radii[i]) as [number, number, number],
      warp: Array.from({ length: 4 }, () => rng.uniform(-0.15, 0.15)),
    });
  }
  const bodyRadii = [0.92, 0.85, 0.95];
  // Bias field: 1 + a * cos-products of random phase, one period across the field of view (smooth, low frequency).
  const phase = [rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI), rng.uniform(0, 2 * Math.PI)];
  const channelGain = Array.from({ length: channels }, (_, c) =>
    c === 0 ? 1 : rng.uniform(0.6, 1.4) * (c % 2 ? -1 : 1),
  );
  const voxels = nx * ny * nz;
  const data = new Float32Array(voxels * channels);
  const label = new Uint8Array(voxels);
  const delta = ORGAN_DELTA * profile.contrast;
  // The bias field is a product of per-axis cosines, so it is precomputed per axis (separable).
  const axis = (n: number): Float64Array =>
    Float64Array.from({ length: n }, (_, k) => ((k + 0.5) / n) * 2 - 1);
  const [us, vs, ws] = [axis(nx), axis(ny), axis(nz)];
  const [bx, by, bz] = [us, vs, ws].map((a, d) => a.map((t) => Math.cos(Math.PI * t + phase[d])));
  const noiseScale = profile.noiseSigma * ORGAN_DELTA;
  for (let z = 0; z < nz; z++) {
    const w = ws[z];
    for (let y = 0; y < ny; y++) {
      const v = vs[y];
      for (let x = 0; x < nx; x++) {
        const u = us[x];
        const i = x + nx * (y + ny * z);
        const body = (u / bodyRadii[0]) ** 2 + (v / bodyRadii[1]) ** 2 + (w / bodyRadii[2]) ** 2;
        const bodyIn = smoothStep(1 - Math.sqrt(body));
        const organDepth = depth(organ, u, v, w);
        const organIn = smoothStep(organDepth);
        let lesionIn = 0;
        let lesionDepth = -Infinity;
        if (organDepth > -0.5) {
          for (const l of lesions) {
            const dl = depth(l, u, v, w);
            if (dl > lesionDepth) lesionDepth = dl;
          }
          lesionIn = smoothStep(lesionDepth);
        }
        if (organDepth > 0) label[i] = lesionDepth > 0 ? PHANTOM_LABELS.lesion : PHANTOM_LABELS.organ;
        const bias = 1 + profile.biasAmplitude * bx[x] * by[y] * bz[z];
        for (let c = 0; c < channels; c++) {
          const g = channelGain[c];
          const clean =
            AIR + bodyIn * (TISSUE + organIn * g * (delta + lesionIn * LESION_DELTA * profile.contrast));
          const noisy = clean * bias + noiseScale * rng.normal();
          data[i * channels + c] = noisy * profile.intensityScale + profile.intensityOffset;
        }
      }
    }
  }
  return { image: { data, shape: [nx, ny, nz], spacingMm: [...profile.spacingMm], channels }, label };
}

/** Signed depth inside a deformed ellipsoid: > 0 inside, in normalised-radius units. */
function depth(e: Ellipsoid, u: number, v: number, w: number): number {
  const a = (u - e.centre[0]) / e.radii[0];
  const b = (v - e.centre[1]) / e.radii[1];
  const c = (w - e.centre[2]) / e.radii[2];
  const q = Math.sqrt(a * a + b * b + c * c);
  if (q === 0) return 1;
  const dx = a / q;
  const dy = b / q;
  const dz = c / q;
  // Low-order smooth radius modulation on the unit direction (quadrupole-like terms + one tilt): organ-like lobes.
  const boundary =
    1 + e.warp[0] * dx * dy + e.warp[1] * dy * dz + e.warp[2] * (dz * dz - 1 / 3) + e.warp[3] * dx * dx * dx;
  return boundary - q;
}

function smoothStep(d: number): number {
  // Beyond 20 edge widths the logistic is 0 or 1 to float32 precision; skip the exp.
  if (d > 20 * EDGE) return 1;
  if (d < -20 * EDGE) return 0;
  return 1 / (1 + Math.exp(-d / EDGE));
}

function jitter(rng: Rng, amount: number): number {
  return rng.uniform(-amount, amount);
}

/** Knuth's Poisson sampler: fine for the small rates (< 5) used here. */
function poisson(rng: Rng, rate: number): number {
  const limit = Math.exp(-rate);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}
