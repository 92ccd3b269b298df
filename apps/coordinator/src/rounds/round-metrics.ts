import type { MetricInput } from './rounds.repository';
import { weightedMean } from './weighted-mean';

/**
 * A round's metric rows, computed from what sites sent: each site's training loss and their sample-weighted
 * mean (at aggregation), and the sample-weighted mean of each validation metric over the sites that scored
 * the new model (at completion). Pure: the runner writes the rows.
 */
export function trainingLossRows(
  studyId: string,
  roundIndex: number,
  updates: ReadonlyArray<{ siteId: string; samples: number; trainLoss: number | null }>,
): { trainLoss: number | null; rows: MetricInput[] } {
  const trainLoss = weightedMean(
    updates.map((u) => ({ value: u.trainLoss ?? Number.NaN, samples: u.samples })),
  );
  const rows: MetricInput[] = updates.flatMap((u) =>
    u.trainLoss === null
      ? []
      : [
          {
            studyId,
            roundIndex,
            siteId: u.siteId,
            split: 'train',
            name: 'loss',
            value: u.trainLoss,
            samples: u.samples,
          },
        ],
  );
  if (trainLoss !== null)
    rows.push({
      studyId,
      roundIndex,
      siteId: null,
      split: 'train',
      name: 'loss',
      value: trainLoss,
      samples: updates.reduce((n, u) => n + u.samples, 0),
    });
  return { trainLoss, rows };
}

export function validationMeanRows(
  studyId: string,
  roundIndex: number,
  siteMetrics: ReadonlyArray<{ name: string; value: number; samples: number | null }>,
): MetricInput[] {
  const rows: MetricInput[] = [];
  for (const name of [...new Set(siteMetrics.map((m) => m.name))]) {
    const ofName = siteMetrics.filter((m) => m.name === name);
    const mean = weightedMean(ofName.map((m) => ({ value: m.value, samples: m.samples ?? 0 })));
    if (mean === null) continue;
    rows.push({
      studyId,
      roundIndex,
      siteId: null,
      split: 'val',
      name,
      value: mean,
      samples: ofName.reduce((n, m) => n + (m.samples ?? 0), 0),
    });
  }
  return rows;
}
