import { z } from 'zod';

/**
 * REST replies about studies, as they travel (dates as ISO 8601 strings). Browser-safe: no node: imports,
 * so the dashboard bundles this file directly.
 */
export const StudyStatus = z.enum(['draft', 'running', 'paused', 'completed', 'failed']);
export type StudyStatus = z.infer<typeof StudyStatus>;

export const RoundStatus = z.enum([
  'advertising',
  'sharing',
  'training',
  'unmasking',
  'aggregating',
  'evaluating',
  'completed',
  'failed',
]);
export type RoundStatus = z.infer<typeof RoundStatus>;

/**
 * GET /studies/:id (and every study-changing route). `config` is the StudyConfig (study-config.ts) as
 * stored; it is typed loosely here because StudyConfig's plan part hashes with node:crypto, and the OpenAPI
 * document substitutes the full StudyConfig schema.
 */
export const StudyView = z.object({
  id: z.uuid(),
  name: z.string(),
  status: StudyStatus,
  config: z.record(z.string(), z.unknown()),
  /** Why the study is paused or failed, for people. */
  statusReason: z.string().nullable(),
  roundsDone: z.int().min(0),
  epsilonSpent: z.number().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type StudyView = z.infer<typeof StudyView>;

export const StudyList = z.array(StudyView);
export type StudyList = z.infer<typeof StudyList>;

/** One row of GET /studies/:id/rounds: the round timeline. Loss and Dice are study-level means. */
export const RoundSummary = z.object({
  index: z.int().min(1),
  status: RoundStatus,
  selectedSites: z.int().min(0),
  /** Updates received: the selected sites that answered (the others dropped out or were late). */
  updates: z.int().min(0),
  /** Bytes of those updates as they arrived (after the study's codec): the round's uplink traffic. */
  uplinkBytes: z.int().min(0),
  deadlineAt: z.iso.datetime(),
  startedAt: z.iso.datetime(),
  completedAt: z.iso.datetime().nullable(),
  failureReason: z.string().nullable(),
  trainLoss: z.number().nullable(),
  valDice: z.number().nullable(),
});
export type RoundSummary = z.infer<typeof RoundSummary>;

export const RoundSummaryList = z.array(RoundSummary);
export type RoundSummaryList = z.infer<typeof RoundSummaryList>;

/**
 * One figure of GET /studies/:id/metrics. `siteId` is null for study-level aggregates; a NaN value (an
 * empty mask's Dice) travels as null.
 */
export const MetricRow = z.object({
  id: z.uuid(),
  studyId: z.uuid(),
  roundIndex: z.int().min(0),
  siteId: z.uuid().nullable(),
  split: z.string(),
  name: z.string(),
  value: z.number().nullable(),
  samples: z.int().nullable(),
  createdAt: z.iso.datetime(),
});
export type MetricRow = z.infer<typeof MetricRow>;

export const MetricList = z.array(MetricRow);
export type MetricList = z.infer<typeof MetricList>;

/** GET /studies/:id/approvals: who approved which plan hash, and whether it is the current plan. */
export const ApprovalsReply = z.object({
  planHash: z.string().regex(/^[0-9a-f]{64}$/),
  policy: z.enum(['quorum', 'all-invited']),
  approvals: z.array(
    z.object({
      site: z.string(),
      planHash: z.string().regex(/^[0-9a-f]{64}$/),
      current: z.boolean(),
      approvedAt: z.iso.datetime(),
    }),
  ),
});
export type ApprovalsReply = z.infer<typeof ApprovalsReply>;

/** GET /studies/:id/declines: tasks sites declined, with the site's reason fields. */
export const DeclineList = z.array(z.looseObject({ at: z.iso.datetime(), site: z.string() }));
export type DeclineList = z.infer<typeof DeclineList>;
