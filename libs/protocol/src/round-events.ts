import { z } from 'zod';

/**
 * What happened in a study, announced after it was persisted: the coordinator's live views, the demo and
 * the /dashboard socket namespace. Browser-safe: no node: imports.
 */
const Base = { studyId: z.uuid(), round: z.int().min(0) };

export const RoundStarted = z.object({
  type: z.literal('round-started'),
  ...Base,
  siteIds: z.array(z.string()),
  deadlineAt: z.iso.datetime(),
});
export const UpdateReceived = z.object({
  type: z.literal('update-received'),
  ...Base,
  siteId: z.string(),
  samples: z.int().min(0),
  trainLoss: z.number(),
});
export const TaskProgressEvent = z.object({
  type: z.literal('task-progress'),
  ...Base,
  siteId: z.string(),
  epoch: z.int().min(0),
  epochs: z.int().min(0),
  step: z.int().min(0),
  steps: z.int().min(0),
  loss: z.number().optional(),
});
export const RoundAggregated = z.object({
  type: z.literal('round-aggregated'),
  ...Base,
  sites: z.int().min(0),
  trainLoss: z.number().nullable(),
});
export const MetricsReceived = z.object({
  type: z.literal('metrics-received'),
  ...Base,
  siteId: z.string(),
  metrics: z.record(z.string(), z.number()),
});
export const RoundCompleted = z.object({
  type: z.literal('round-completed'),
  ...Base,
  sites: z.int().min(0),
  trainLoss: z.number().nullable(),
  valDice: z.number().nullable(),
});
export const RoundFailed = z.object({ type: z.literal('round-failed'), ...Base, reason: z.string() });
/** A secure-aggregation round moved to its next phase (its status); round-started covers `advertising`. */
export const RoundPhaseChanged = z.object({
  type: z.literal('round-phase'),
  ...Base,
  phase: z.enum(['sharing', 'training', 'unmasking', 'aggregating']),
});
export const StudyStatusChanged = z.object({
  type: z.literal('study-status'),
  studyId: z.uuid(),
  status: z.string(),
  reason: z.string().nullable(),
});

export const RoundEvent = z.discriminatedUnion('type', [
  RoundStarted,
  UpdateReceived,
  TaskProgressEvent,
  RoundAggregated,
  MetricsReceived,
  RoundCompleted,
  RoundFailed,
  RoundPhaseChanged,
  StudyStatusChanged,
]);
export type RoundEvent = z.infer<typeof RoundEvent>;
