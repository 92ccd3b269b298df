import { type CaseSummary, checkDataset, type DatasetCheck } from '@fedseg/imaging';
import { parseOrThrow, ValidationError } from '@fedseg/protocol';
import { z } from 'zod';

/** `fedseg-agent check-data DIR [--verbose]`: flags parsed by one schema (STYLE.md, site-agent). */
const CheckDataArgs = z.object({
  dir: z.string().min(1, 'give the dataset folder: fedseg-agent check-data DIR'),
  verbose: z.boolean(),
});
type CheckDataArgs = z.infer<typeof CheckDataArgs>;

interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** Cases after which progress lines appear (a few seconds of reading on a laptop). */
const PROGRESS_EVERY = 25;

/**
 * Validates a local dataset folder (MSD or images/ + labels/) and prints a summary table, then one line per
 * problem, `<file>: <fault>`. Exit 0 when the data is usable, 1 when any problem was found, 2 on bad arguments.
 * Everything printed stays on this machine: file names and intensities are never sent to the coordinator.
 */
export async function checkDataCommand(argv: string[], io: Io): Promise<number> {
  const verbose = argv.includes('--verbose');
  let args: CheckDataArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    io.err(`check-data: ${err instanceof Error ? err.message : String(err)}`);
    io.err('usage: fedseg-agent check-data DIR [--verbose]');
    return 2;
  }
  io.out(`check-data: dir=${args.dir} verbose=${args.verbose}`);
  try {
    const check = await checkDataset(args.dir, (done, total) => {
      if (total > PROGRESS_EVERY && (done % PROGRESS_EVERY === 0 || done === total))
        io.err(`checked ${done}/${total} cases`);
    });
    printReport(check, io);
    return check.problems.length > 0 ? 1 : 0;
  } catch (err) {
    // A bug, not bad data (bad data becomes problems above): one line, the stack only when asked.
    io.err(`check-data: ${err instanceof Error ? err.message : String(err)}`);
    if (verbose && err instanceof Error && err.stack) io.err(err.stack);
    return 1;
  }
}

function parseArgs(argv: string[]): CheckDataArgs {
  const positional = argv.filter((a) => !a.startsWith('--'));
  const unknown = argv.filter((a) => a.startsWith('--') && a !== '--verbose');
  if (unknown.length > 0) throw new ValidationError(`unknown option(s) ${unknown.join(' ')}`);
  if (positional.length > 1)
    throw new ValidationError(`expected one folder, got ${positional.length}: ${positional.join(' ')}`);
  return parseOrThrow(
    CheckDataArgs,
    { dir: positional[0] ?? '', verbose: argv.includes('--verbose') },
    'check-data arguments',
  );
}

function printReport(check: DatasetCheck, io: Io): void {
  const ds = check.dataset;
  if (ds) {
    const classes = ds.labels
      ? ds.labels.map((l) => `${l.value} ${l.name}`).join(', ')
      : 'not declared (0..255 accepted)';
    const modalities = ds.modalities.length ? ds.modalities.join(', ') : 'not declared';
    io.out(
      `dataset "${ds.name}" (${ds.layout} layout): ${ds.cases.length} case(s); modalities: ${modalities}; classes: ${classes}`,
    );
    const names = new Map(ds.labels?.map((l) => [l.value, l.name]) ?? []);
    const header = [
      'case',
      'shape',
      'spacing mm',
      'ch',
      'orient',
      'intensity min..max (mean)',
      'class volumes ml',
      'problems',
    ];
    const rows = check.cases.map((c) => row(c, names));
    printTable([header, ...rows], io);
  }
  if (check.problems.length === 0) {
    io.out(`OK: ${check.cases.length} case(s), no problems found.`);
    return;
  }
  io.err(`${check.problems.length} problem(s):`);
  for (const p of check.problems) io.err(`${p.file}: ${p.fault}`);
}

function row(c: CaseSummary, names: Map<number, string>): string[] {
  const voxelMl = c.spacingMm ? (c.spacingMm[0] * c.spacingMm[1] * c.spacingMm[2]) / 1000 : undefined;
  const classes = [...c.classVoxels.entries()]
    .filter(([v]) => v !== 0)
    .sort((a, b) => a[0] - b[0])
    .map(([v, n]) => `${names.get(v) ?? v} ${voxelMl === undefined ? `${n} vox` : (n * voxelMl).toFixed(2)}`)
    .join(', ');
  return [
    c.id,
    c.shape ? c.shape.join('x') : '-',
    c.spacingMm ? c.spacingMm.map((s) => Number(s.toFixed(3))).join('x') : '-',
    c.channels ? String(c.channels) : '-',
    c.orientation ?? '-',
    c.intensity ? `${num(c.intensity.min)}..${num(c.intensity.max)} (${num(c.intensity.mean)})` : '-',
    classes || '-',
    c.problems ? String(c.problems) : 'ok',
  ];
}

function num(x: number): string {
  return Math.abs(x) >= 1000 || Number.isInteger(x) ? String(Math.round(x)) : x.toFixed(1);
}

function printTable(rows: string[][], io: Io): void {
  const widths = rows[0].map((_, j) => Math.max(...rows.map((r) => r[j].length)));
  for (const r of rows)
    io.out(
      r
        .map((cell, j) => cell.padEnd(widths[j]))
        .join('  ')
        .trimEnd(),
    );
}
