import type { Metric } from '@prisma/client';
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

/** A metric as it travels; a NaN (an empty mask's Dice) or infinite value is null, as JSON would write it. */
export function metricRow(m: Metric): MetricRow {
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
