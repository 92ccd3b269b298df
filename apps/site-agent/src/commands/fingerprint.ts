import { loadCase, loadDataset, splitCases } from '@fedseg/imaging';
import { parseOrThrow, type SiteFingerprint } from '@fedseg/protocol';
import { z } from 'zod';
import { parseFlags } from '../agent-options';
import { dataFingerprint } from '../data-fingerprint';

/**
 * `fedseg-agent fingerprint --data DIR [--memory-mb N] [--crop-threshold X] [--val-fraction 0.25] [--seed 0]`:
 * flags parsed by one schema (STYLE.md, site-agent). The split matches `run`'s, so only training cases count.
 */
const FingerprintOptions = z.strictObject({
  data: z.string().min(1),
  /** Memory this site gives one training step, MiB; sent so the plan fits every site. Omitted: not sent. */
  memoryMb: z.coerce.number().positive().optional(),
  /** Body threshold for the crop statistics (CT: above air, e.g. -500); default any non-zero voxel. */
  cropThreshold: z.coerce.number().optional(),
  valFraction: z.coerce.number().min(0).max(0.9).default(0.25),
  seed: z.coerce.number().int().min(0).default(0),
  /** Accepted like every verb's; the fingerprint needs no key. */
  home: z.string().min(1).optional(),
  verbose: z.boolean().default(false),
});
type FingerprintOptions = z.infer<typeof FingerprintOptions>;

interface Io {
  out(line: string): void;
  err(line: string): void;
}

/**
 * Computes this site's data fingerprint (issue 18) from its training cases and prints exactly the message
 * that would leave the site, as JSON on stdout (the SiteFingerprint schema in @fedseg/protocol: spacing and
 * shapes per case, coarse foreground histograms per modality, class fractions; no name, no voxel). Progress
 * goes to stderr. Exit 0 on success, 1 when the data cannot be read, 2 on bad arguments.
 */
export async function fingerprintCommand(argv: string[], io: Io): Promise<number> {
  let options: FingerprintOptions;
  try {
    options = parseOrThrow(FingerprintOptions, parseFlags(argv), 'fingerprint options');
  } catch (err) {
    io.err(`fingerprint: ${err instanceof Error ? err.message : String(err)}`);
    io.err(
      'usage: fedseg-agent fingerprint --data DIR [--memory-mb N] [--crop-threshold X] [--val-fraction 0.25] [--seed 0]',
    );
    return 2;
  }
  io.err(
    `fingerprint: data=${options.data} valFraction=${options.valFraction} seed=${options.seed}` +
      ` memoryMb=${options.memoryMb ?? 'not sent'} cropThreshold=${options.cropThreshold ?? 'non-zero'}`,
  );
  try {
    io.out(JSON.stringify(await computeFingerprint(options, io), null, 2));
    return 0;
  } catch (err) {
    io.err(`fingerprint: ${err instanceof Error ? err.message : String(err)}`);
    if (options.verbose && err instanceof Error && err.stack) io.err(err.stack);
    return 1;
  }
}

async function computeFingerprint(options: FingerprintOptions, io: Io): Promise<SiteFingerprint> {
  const dataset = await loadDataset(options.data);
  const { train } = splitCases(dataset, options.valFraction, options.seed);
  return dataFingerprint(
    dataset,
    train.length,
    (i) => loadCase(dataset, train[i]!),
    { memoryMb: options.memoryMb, cropThreshold: options.cropThreshold },
    (i) => io.err(`fingerprint: case ${i + 1}/${train.length}`),
  );
}
