import type { Dataset } from './dataset';
import { type CaseSummary, checkCase, type DataProblem } from './check-case';
import { DatasetInvalidError } from './imaging-errors';
import { loadDataset } from './load-dataset';

export interface DatasetCheck {
  /** Undefined when the folder itself is unusable (then `problems` says why). */
  dataset: Dataset | undefined;
  cases: CaseSummary[];
  problems: DataProblem[];
}

/**
 * Validates a dataset folder case by case (see checkCase) and never throws for bad data: every fault becomes
 * one DataProblem naming the file. `onCase` reports progress for long checks.
 */
export async function checkDataset(
  dir: string,
  onCase?: (done: number, total: number) => void,
): Promise<DatasetCheck> {
  let dataset: Dataset;
  try {
    dataset = await loadDataset(dir);
  } catch (err) {
    if (err instanceof DatasetInvalidError)
      return { dataset: undefined, cases: [], problems: [{ file: dir, fault: err.fault }] };
    throw err;
  }
  const problems: DataProblem[] = [];
  if (dataset.cases.length === 0)
    problems.push({ file: dir, fault: 'no cases found (no .nii or .nii.gz images)' });
  const cases: CaseSummary[] = [];
  for (const entry of dataset.cases) {
    cases.push(await checkCase(dataset, entry, problems));
    onCase?.(cases.length, dataset.cases.length);
  }
  return { dataset, cases, problems };
}
