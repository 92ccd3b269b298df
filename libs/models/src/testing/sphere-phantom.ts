import type { TrainingSample } from '../data/training-sample';
import { seededRandom } from '../util/seeded-random';

export interface SpherePhantomOptions {
  shape: [number, number, number];
  /** Centre in voxels [x, y, z]; default the volume centre. */
  centre?: [number, number, number];
  radius: number;
  /** Gaussian-ish noise amplitude added to the image (uniform, +-noise). */
  noise?: number;
  seed?: number;
  channels?: number;
  /** Inner sphere of class 2 with this radius (for 3-class tests). */
  innerRadius?: number;
}

/**
 * Analytic test phantom (tests only): a bright sphere (class 1, intensity 1) in a dark background
 * (intensity 0), optional inner core (class 2, intensity 2), plus seeded uniform noise. Every extra channel
 * repeats the image with a channel-dependent gain, standing in for a second modality.
 */
export function spherePhantom(options: SpherePhantomOptions): TrainingSample {
  const [nx, ny, nz] = options.shape;
  const [cx, cy, cz] = options.centre ?? [(nx - 1) / 2, (ny - 1) / 2, (nz - 1) / 2];
  const channels = options.channels ?? 1;
  const rng = seededRandom(options.seed ?? 1);
  const noise = options.noise ?? 0.1;
  const image = new Float32Array(nx * ny * nz * channels);
  const label = new Uint8Array(nx * ny * nz);
  let v = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++, v++) {
        const r = Math.hypot(x - cx, y - cy, z - cz);
        const cls =
          options.innerRadius !== undefined && r <= options.innerRadius ? 2 : r <= options.radius ? 1 : 0;
        label[v] = cls;
        for (let c = 0; c < channels; c++)
          image[v * channels + c] = cls * (1 + 0.5 * c) + (2 * rng.next() - 1) * noise;
      }
    }
  }
  return { image, label, shape: [nx, ny, nz], channels };
}
