/** Helpers shared by the benchmarks: timing medians, tables, the backends to measure. */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Runs `fn` `warmup` times untimed, then `repeats` times, and returns the times in ms. */
export async function timeRepeated(
  fn: () => Promise<void> | void,
  repeats: number,
  warmup = 1,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

/** Prints rows as an aligned text table. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** The portable backends this process can start, after `wanted` (default: wasm and cpu). */
export async function startableBackends(wanted: readonly string[] = ['wasm', 'cpu']): Promise<string[]> {
  const ok: string[] = [];
  // Threaded wasm spawns its workers from a blob URL, which Node cannot load.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  for (const name of wanted) {
    try {
      if (await tf.setBackend(name)) ok.push(name);
    } catch {
      // not startable here; reported by omission
    }
  }
  return ok;
}

/** `--name value` from a benchmark's arguments. */
export function option(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}
