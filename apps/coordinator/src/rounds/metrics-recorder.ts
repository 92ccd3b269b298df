import { UpdateRejectedError } from '../common/errors';
import { BurstBatcher, type BatchOutcome } from '../common/burst-batcher';
import { admitMetrics } from './round-engine';
import type { MetricInput, RoundsRepository } from './rounds.repository';

/** A site's metrics of one round and split, as rows, to be recorded if the round still takes them. */
export interface MetricsToRecord {
  studyId: string;
  round: number;
  split: string;
  site: { siteId: string; name: string };
  rows: readonly MetricInput[];
}

/**
 * Group commit of metric reports (burst-batcher.ts): a round's burst of evaluations is written in a few
 * transactions. Each checks the round's status under its row lock (round-engine admitMetrics), so a report
 * racing the round's completion is either stored before it or refused, and a site's second report of a
 * split is refused, within the batch too.
 */
export class MetricsRecorder {
  private readonly commits = new BurstBatcher<MetricsToRecord, void>(
    (report) => `${report.studyId}/${report.round}/${report.split}`,
    (reports) => this.write(reports),
  );

  constructor(private readonly rounds: RoundsRepository) {}

  /** Resolves once the rows are committed; rejects with UpdateRejectedError when refused. */
  record(report: MetricsToRecord): Promise<void> {
    return this.commits.submit(report);
  }

  private write(reports: readonly MetricsToRecord[]): Promise<Array<BatchOutcome<void>>> {
    const { studyId, round: index, split } = reports[0]!;
    return this.rounds.transaction(async (tx) => {
      const round = await this.rounds.lockRoundByIndex(studyId, index, tx);
      if (!round)
        return reports.map(() => ({
          error: new UpdateRejectedError('ROUND_NOT_FOUND', `Study ${studyId} has no round ${index}.`),
        }));
      const reported = await this.rounds.reportedSites(
        studyId,
        index,
        split,
        reports.map((r) => r.site.siteId),
        tx,
      );
      const outcomes = reports.map((report): BatchOutcome<void> => {
        const refusal = admitMetrics(
          { index, status: round.status },
          report.site,
          split,
          reported.has(report.site.siteId),
        );
        if (refusal) return { error: new UpdateRejectedError(refusal.code, refusal.message) };
        reported.add(report.site.siteId);
        return { value: undefined };
      });
      await this.rounds.addMetrics(
        reports.flatMap((report, i) => ('value' in outcomes[i]! ? report.rows : [])),
        tx,
      );
      return outcomes;
    });
  }
}
