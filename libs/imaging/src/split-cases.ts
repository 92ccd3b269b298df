import type { Dataset } from './dataset';
import { ImagingArgumentError } from './imaging-errors';
import { createRng } from './rng';

/**
 * Deterministic train/validation split: case ids sorted, Fisher-Yates shuffled with a seeded RNG, the first
 * round(n * valFraction) go to validation (at least one when valFraction > 0 and n >= 2, so every site can
 * score the global model; never all, so every site can train). Same dataset + seed -> same split.
 */
export function splitCases(
  dataset: Pick<Dataset, 'cases'>,
  valFraction: number,
  seed: number,
): { train: string[]; val: string[] } {
  if (!(valFraction >= 0 && valFraction < 1))
    throw new ImagingArgumentError(`valFraction ${valFraction} must be in [0, 1)`);
  const ids = dataset.cases.map((c) => c.id).sort();
  const rng = createRng(seed);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  let nVal = Math.round(ids.length * valFraction);
  if (valFraction > 0 && ids.length >= 2) nVal = Math.min(Math.max(nVal, 1), ids.length - 1);
  return { train: ids.slice(nVal).sort(), val: ids.slice(0, nVal).sort() };
}
