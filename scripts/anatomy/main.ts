/**
 * `node scripts/run-ts.js scripts/anatomy/main.ts --out DIR [--variant full|tiny] [--cases 4] [--seed 1]`:
 * writes the Colin27 three-site consortium (anatomy-consortium.ts) and prints each site's folder.
 */
import { buildAnatomyConsortium } from './anatomy-consortium';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const opt = (name: string, fallback?: string): string | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const outDir = opt('out');
  const variant = opt('variant', 'full');
  if (!outDir || (variant !== 'full' && variant !== 'tiny')) {
    console.error('usage: scripts/anatomy/main.ts --out DIR [--variant full|tiny] [--cases 4] [--seed 1]');
    return 2;
  }
  const { siteDirs } = await buildAnatomyConsortium({
    outDir,
    variant,
    casesPerSite: Number(opt('cases', '4')),
    seed: Number(opt('seed', '1')),
  });
  for (const dir of siteDirs) console.log(dir);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`anatomy: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
