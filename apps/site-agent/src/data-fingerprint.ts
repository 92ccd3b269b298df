import { caseStats, siteFingerprint, type CaseStats, type Dataset, type Volume } from '@fedseg/imaging';
import type { SiteFingerprint } from '@fedseg/protocol';

export interface FingerprintOptions {
  /** Memory this site gives one training step, MiB; sent so the plan fits every site. Omitted: not sent. */
  memoryMb?: number;
  /** Body threshold for the crop statistics (CT: above air, e.g. -500); default any non-zero voxel. */
  cropThreshold?: number;
}

/**
 * This site's data fingerprint (issue 18) from its training cases, read one at a time by `next` so that a site's
 * full-size volumes need not fit in memory together: per case spacing and shapes, coarse foreground histograms
 * per modality, class fractions (the SiteFingerprint schema; no name, no voxel). Shared by `fedseg-agent
 * fingerprint` (prints it) and `run` (sends it when a study asks), so both give the same message.
 */
export async function dataFingerprint(
  dataset: Pick<Dataset, 'labels' | 'modalities'>,
  count: number,
  next: (index: number) => Promise<{ image: Volume; label: Uint8Array }>,
  options: FingerprintOptions = {},
  onCase?: (index: number) => void,
): Promise<SiteFingerprint> {
  // Declared classes bound the label values; undeclared, any 0..255 is read and the unused top is dropped.
  const declared = dataset.labels ? Math.max(...dataset.labels.map((l) => l.value)) + 1 : 256;
  const stats: CaseStats[] = [];
  let channels = 0;
  for (let i = 0; i < count; i++) {
    const { image, label } = await next(i);
    channels = image.channels;
    stats.push(caseStats(image, label, { numClasses: declared, cropThreshold: options.cropThreshold }));
    onCase?.(i);
  }
  const used = dataset.labels
    ? declared
    : Math.max(2, ...stats.map((s) => s.classVoxels.reduce((top, n, k) => (n > 0 ? k + 1 : top), 0)));
  for (const s of stats) s.classVoxels = s.classVoxels.slice(0, used);
  const modalities =
    dataset.modalities.length === channels
      ? dataset.modalities
      : Array.from({ length: channels }, (_, c) => `channel-${c}`);
  return siteFingerprint(stats, {
    modalities,
    numClasses: used,
    ...(options.memoryMb !== undefined ? { memoryBudgetMb: options.memoryMb } : {}),
  });
}
