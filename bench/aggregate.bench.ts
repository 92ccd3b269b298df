/**
 * `npm run bench -- aggregate [--sites=16] [--params=10000000] [--repeats=3] [--strategies=fedavg,median,...]`
 *
 * Aggregates N site updates of P float32 parameters with each strategy and reports the median wall time of
 * `repeats` runs, the throughput in GB/s of update bytes read (N * P * 4 / time), and the ratio to a plain
 * typed-array copy of the same bytes measured in the same run (`dst.set(update)` for every update: the
 * memory-bandwidth reference, ../shared/BENCHMARKS.md). Prints a table, then one JSON line.
 */
import { createAggregator, fedAvg, type SiteUpdate } from '@fedseg/aggregation';
import { StrategyConfig, type StrategyConfig as StrategyConfigT } from '@fedseg/protocol';

interface Args {
  sites: number;
  params: number;
  repeats: number;
  strategies: string[];
}

const ALL = ['copy', 'fedAvg()', 'fedavg', 'fedadam', 'median', 'trimmed-mean', 'krum', 'multi-krum'];

function parseArgs(argv: string[]): Args {
  const get = (name: string, fallback: string) =>
    argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
  const args = {
    sites: Number(get('sites', '16')),
    params: Number(get('params', '10000000')),
    repeats: Number(get('repeats', '3')),
    strategies: get('strategies', ALL.join(',')).split(','),
  };
  if (!(args.sites >= 1 && args.params >= 1 && args.repeats >= 1))
    throw new Error('usage: aggregate [--sites=N] [--params=P] [--repeats=R] [--strategies=a,b]');
  const unknown = args.strategies.filter((s) => !ALL.includes(s));
  if (unknown.length)
    throw new Error(`unknown strategies ${unknown.join(', ')}; available: ${ALL.join(', ')}`);
  if (!args.strategies.includes('copy')) args.strategies.unshift('copy');
  return args;
}

/** Fast deterministic fill (xorshift32) so that generating 160M values does not dominate the run. */
function fill(v: Float32Array, seed: number, scale: number, base?: Float32Array): void {
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < v.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const u = (x >>> 0) / 4294967296 - 0.5;
    v[i] = (base ? base[i] : 0) + scale * u;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function runOnce(name: string, global: Float32Array, updates: SiteUpdate[], scratch: Float32Array): number {
  const t0 = performance.now();
  if (name === 'copy') {
    for (const u of updates) scratch.set(u.weights);
  } else if (name === 'fedAvg()') {
    fedAvg(scratch, updates);
  } else {
    const strategy: StrategyConfigT = StrategyConfig.parse(
      name === 'krum' || name === 'multi-krum'
        ? { name, byzantine: Math.max(0, Math.floor((updates.length - 3) / 2)) }
        : { name },
    );
    const agg = createAggregator(strategy, { global, state: null, expectedSites: updates.length });
    for (const u of updates) agg.add(u);
    agg.finish();
  }
  return performance.now() - t0;
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const { sites: n, params: p } = args;
  const global = new Float32Array(p);
  fill(global, 1, 0.2);
  const updates: SiteUpdate[] = Array.from({ length: n }, (_, k) => {
    const w = new Float32Array(p);
    fill(w, 100 + k, 0.01, global);
    return { siteId: `site-${k}`, samples: 10 + k, weights: w };
  });
  const scratch = new Float32Array(p);
  const bytesRead = n * p * 4;
  const rows: {
    strategy: string;
    ms: number;
    gbPerS: number;
    ratioToCopy: number;
    rssMb: number;
    runsMs: number[];
  }[] = [];
  let copyGbPerS = NaN;
  for (const name of args.strategies) {
    if ((name === 'krum' || name === 'multi-krum') && n < 3) continue;
    runOnce(name, global, updates, scratch); // warm-up (JIT, page faults)
    const runsMs = Array.from({ length: args.repeats }, () => runOnce(name, global, updates, scratch));
    const ms = median(runsMs);
    const gbPerS = bytesRead / (ms / 1000) / 1e9;
    if (name === 'copy') copyGbPerS = gbPerS;
    rows.push({
      strategy: name,
      ms,
      gbPerS,
      ratioToCopy: gbPerS / copyGbPerS,
      rssMb: process.memoryUsage().rss / 2 ** 20,
      runsMs,
    });
  }
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `aggregate: N = ${n} updates x P = ${p} float32 (${(bytesRead / 1e9).toFixed(2)} GB read per aggregation), median of ${args.repeats} runs`,
  );
  console.log('strategy       ms        GB/s   x copy   RSS MB');
  for (const r of rows) {
    console.log(
      `${r.strategy.padEnd(12)} ${r.ms.toFixed(1).padStart(9)} ${r.gbPerS.toFixed(2).padStart(9)} ${r.ratioToCopy.toFixed(3).padStart(8)} ${r.rssMb.toFixed(0).padStart(8)}`,
    );
  }
  console.log(
    `peak RSS ${peakRssMb.toFixed(0)} MB (updates themselves: ${((n * p * 4) / 2 ** 20).toFixed(0)} MB)`,
  );
  console.log(
    JSON.stringify({
      bench: 'aggregate',
      sites: n,
      params: p,
      repeats: args.repeats,
      bytesRead,
      copyGbPerS,
      peakRssMb,
      results: rows.map((r) => ({
        strategy: r.strategy,
        ms: r.ms,
        gbPerS: r.gbPerS,
        ratioToCopy: r.ratioToCopy,
        runsMs: r.runsMs,
      })),
    }),
  );
}
