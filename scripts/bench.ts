/**
 * `npm run bench -- <name> [args]` runs bench/<name>.bench.ts. Every benchmark prints a table for people
 * and, last, one JSON line for machines (../shared/BENCHMARKS.md).
 */
import fs from 'node:fs';
import path from 'node:path';

const benchDir = path.resolve(__dirname, '..', 'bench');
const available = fs.existsSync(benchDir)
  ? fs
      .readdirSync(benchDir)
      .filter((f) => f.endsWith('.bench.ts'))
      .map((f) => f.replace(/\.bench\.ts$/, ''))
      .sort()
  : [];

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [args]\navailable: ${available.join(', ') || '(none yet)'}`);
  process.exit(name ? 2 : 0);
}
const mod = require(path.join(benchDir, `${name}.bench.ts`)) as { run(args: string[]): Promise<void> };
mod.run(args).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
