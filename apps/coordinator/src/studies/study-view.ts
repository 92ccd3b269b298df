import type { MetricRow, StudyView } from '@fedseg/protocol';
import type { StudyRecord } from './studies.repository';

/** A study as it travels (StudyView in @fedseg/protocol): dates as ISO strings. */
export function studyView(s: StudyRecord): StudyView {
  return {
    id: s.id,
    name: s.name,
    status: s.status,
    config: s.config,
    statusReason: s.statusReason,
    roundsDone: s.roundsDone,
    epsilonSpent: s.epsilonSpent,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

/** A stored metric, as the rounds repository returns it. */
export interface MetricRecord {
  id: string;
  studyId: string;
  roundIndex: number;
  siteId: string | null;
  split: string;
  name: string;
  value: number;
  samples: number | null;
  createdAt: Date;
}

/** A metric as it travels; a NaN (an empty mask's Dice) or infinite value is null, as JSON would write it. */
export function metricRow(m: MetricRecord): MetricRow {
  return {
    id: m.id,
    studyId: m.studyId,
    roundIndex: m.roundIndex,
    siteId: m.siteId,
    split: m.split,
    name: m.name,
    value: Number.isFinite(m.value) ? m.value : null,
    samples: m.samples,
    createdAt: m.createdAt.toISOString(),
  };
}
