import { SiteFingerprint, type FingerprintCase } from '@fedseg/protocol';
import { foregroundBoundingBox } from './bounding-box';
import { ImagingArgumentError } from './imaging-errors';
import { assertLabel, assertVolume, voxelCount, type Volume } from './volume';

/** nnU-Net samples at most 10,000 foreground voxels per case for its intensity statistics. */
export const FINGERPRINT_SAMPLES_PER_CASE = 10_000;
/** Histogram bins per modality: coarse on purpose (percentiles to about 1/64 of the range, no fine detail). */
export const FINGERPRINT_BINS = 64;

/** Foreground intensity statistics of one channel of one case. Stays on the site (holds voxel samples). */
export interface ChannelStats {
  min: number;
  max: number;
  sum: number;
  sumSq: number;
  count: number;
  /** Every k-th foreground voxel, at most FINGERPRINT_SAMPLES_PER_CASE. Never sent. */
  samples: Float32Array;
}

/** One case's contribution to its site's fingerprint. Local only: siteFingerprint reduces these. */
export interface CaseStats {
  case: FingerprintCase;
  /** Voxels per class id, length numClasses. */
  classVoxels: number[];
  channels: ChannelStats[];
}

export interface CaseStatsOptions {
  numClasses: number;
  /** Body threshold for bodyShape (see foregroundBoundingBox); default any channel non-zero. */
  cropThreshold?: number;
  samplesPerCase?: number;
}

/**
 * The statistics of one training case (image with channels = modalities, label with class ids): spacing,
 * shape, body-cropped shape, class voxel counts, and per channel the exact min/max/sum/sum of squares of
 * foreground (label > 0) intensities plus an evenly strided sample of them. Computed case by case so a site
 * never holds more than one volume.
 */
export function caseStats(image: Volume, label: Uint8Array, options: CaseStatsOptions): CaseStats {
  assertVolume(image);
  assertLabel(label, image.shape);
  const k = options.numClasses;
  const limit = options.samplesPerCase ?? FINGERPRINT_SAMPLES_PER_CASE;
  const classVoxels = new Array<number>(k).fill(0);
  for (let v = 0; v < label.length; v++) {
    if (label[v] >= k)
      throw new ImagingArgumentError(`label value ${label[v]} at voxel ${v} is not below ${k} classes`);
    classVoxels[label[v]]++;
  }
  const foreground = label.length - classVoxels[0];
  const stride = Math.max(1, Math.ceil(foreground / limit));
  const c = image.channels;
  const channels: ChannelStats[] = Array.from({ length: c }, () => ({
    min: Infinity,
    max: -Infinity,
    sum: 0,
    sumSq: 0,
    count: 0,
    samples: new Float32Array(Math.ceil(foreground / stride)),
  }));
  let seen = 0;
  for (let v = 0; v < label.length; v++) {
    if (label[v] === 0) continue;
    const sampled = seen % stride === 0;
    for (let ch = 0; ch < c; ch++) {
      const x = image.data[v * c + ch];
      const s = channels[ch];
      if (x < s.min) s.min = x;
      if (x > s.max) s.max = x;
      s.sum += x;
      s.sumSq += x * x;
      if (sampled) s.samples[seen / stride] = x;
      s.count++;
    }
    seen++;
  }
  const box = foregroundBoundingBox(image, { threshold: options.cropThreshold });
  return {
    case: { spacingMm: [...image.spacingMm], shape: [...image.shape], bodyShape: box.shape },
    classVoxels,
    channels,
  };
}

export interface SiteFingerprintOptions {
  /** Modality names in channel order (dataset.json's modality), e.g. ['CT'] or ['T1', 'FLAIR']. */
  modalities: readonly string[];
  numClasses: number;
  memoryBudgetMb?: number;
  bins?: number;
}

/**
 * A site's fingerprint message (the SiteFingerprint schema, parsed before it is returned, so only its keys
 * exist): per-case spacing and shapes; per modality a FINGERPRINT_BINS-bin histogram of the sampled foreground
 * intensities over the site's [min, max] rounded outward to two significant digits, with the mean and std of all foreground voxels; the class volume
 * fractions; the memory budget. No case id, file name or voxel array is part of it.
 */
export function siteFingerprint(
  cases: readonly CaseStats[],
  options: SiteFingerprintOptions,
): SiteFingerprint {
  if (cases.length === 0) throw new ImagingArgumentError('a fingerprint needs at least one training case');
  const bins = options.bins ?? FINGERPRINT_BINS;
  const c = options.modalities.length;
  for (const s of cases)
    if (s.channels.length !== c || s.classVoxels.length !== options.numClasses)
      throw new ImagingArgumentError(
        `a case has ${s.channels.length} channel(s) and ${s.classVoxels.length} classes; expected ${c} and ${options.numClasses}`,
      );
  const modalities = options.modalities.map((modality, ch) => {
    const stats = cases.map((s) => s.channels[ch]);
    const count = stats.reduce((a, s) => a + s.count, 0);
    // The range is rounded outward to two significant digits, so the message does not carry any single
    // voxel's exact extreme value; percentiles are still read to within a bin.
    const lo = count > 0 ? roundOutward(Math.min(...stats.map((s) => s.min)), 'down') : 0;
    const hi = count > 0 ? roundOutward(Math.max(...stats.map((s) => s.max)), 'up') : 0;
    const counts = new Array<number>(bins).fill(0);
    const width = (hi - lo) / bins;
    for (const s of stats)
      for (const x of s.samples) counts[width > 0 ? Math.min(bins - 1, Math.floor((x - lo) / width)) : 0]++;
    const mean = count > 0 ? stats.reduce((a, s) => a + s.sum, 0) / count : 0;
    const meanSq = count > 0 ? stats.reduce((a, s) => a + s.sumSq, 0) / count : 0;
    return {
      modality,
      lo,
      hi,
      counts,
      mean,
      std: Math.sqrt(Math.max(0, meanSq - mean * mean)),
      voxels: count,
    };
  });
  const classVoxels = new Array<number>(options.numClasses).fill(0);
  for (const s of cases) s.classVoxels.forEach((n, k) => (classVoxels[k] += n));
  const total = cases.reduce((a, s) => a + voxelCount(s.case.shape), 0);
  return SiteFingerprint.parse({
    version: 1,
    cases: cases.map((s) => s.case),
    modalities,
    numClasses: options.numClasses,
    classVolumeFractions: classVoxels.map((n) => n / total),
    ...(options.memoryBudgetMb !== undefined ? { memoryBudgetMb: options.memoryBudgetMb } : {}),
  });
}

/** x rounded down or up to two significant digits (0 stays 0): 1550.85 -> 1600 up, 0.1464 -> 0.14 down. */
export function roundOutward(x: number, direction: 'up' | 'down'): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const step = 10 ** (Math.floor(Math.log10(Math.abs(x))) - 1);
  const r = (direction === 'up' ? Math.ceil(x / step) : Math.floor(x / step)) * step;
  // Undo float noise from the division (e.g. 1600.0000000000002) without crossing x.
  const clean = Number(r.toPrecision(12));
  return direction === 'up' ? Math.max(clean, x) : Math.min(clean, x);
}
