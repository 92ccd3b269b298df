/**
 * `npm run experiment -- [--quick] [--out DIR] [--seed N] [--rounds N] [--backend NAME]`
 *
 * Federated vs centralized vs local-only training on the synthetic non-IID consortium (Sheller et al.,
 * 2020, in miniature): progress lines while it runs, a report folder (report.md, figures.json, PNG plots),
 * and last one JSON line with the headline figures. Seeded: the same options give the same figures.json on
 * the same backend.
 */
import { parseExperimentArgs } from './experiment-options';
import { runAndReport } from './run-experiment';

async function main(): Promise<void> {
  const args = parseExperimentArgs(process.argv.slice(2));
  const t0 = performance.now();
  const stamp = (): string => `[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s]`;
  const log = (line: string): void => console.log(`${stamp()} ${line}`);
  log(`experiment${args.quick ? ' (quick)' : ''}: report in ${args.outDir}`);
  const figures = await runAndReport(args.options, args.outDir, log);
  log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  console.log(JSON.stringify(figures.headline));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
