import { z } from 'zod';
import { Signature64 } from './site-identity';
import { PlanHash, StudyPlan } from './study-plan';
import { SiteName } from './trust-messages';
import { MaskingContext } from './secure-aggregation';

/**
 * Messages on the coordinator's /agent socket.io namespace. Binary bytes (update chunks, model chunks) always
 * travel as a socket.io binary attachment beside the JSON part described here, one chunk per message.
 */
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const BackendInfo = z.object({
  name: z.string().min(1).max(64),
  adapter: z.string().max(256).optional(),
  /** Why earlier choices were skipped, for the operator. */
  skipped: z
    .array(z.object({ backend: z.string(), reason: z.string().max(1000) }))
    .max(16)
    .default([]),
});
export type BackendInfo = z.infer<typeof BackendInfo>;

/**
 * agent -> coordinator, first message after an authenticated connect: what the site runs on. Identity comes
 * from the handshake; `siteName` must be the authenticated site's own.
 */
export const AgentHello = z.strictObject({
  siteName: SiteName,
  agentVersion: z.string().max(64),
  backend: BackendInfo,
  maxConcurrentStudies: z.int().min(1).max(64).default(2),
  /** Counts only: no file names, no data. */
  dataSummary: z.object({ trainCases: z.int().min(0), valCases: z.int().min(0) }),
});
export type AgentHello = z.infer<typeof AgentHello>;

export const AgentHelloReply = z.object({ siteId: z.uuid() });
export type AgentHelloReply = z.infer<typeof AgentHelloReply>;

const TaskBase = z.strictObject({
  taskId: z.uuid(),
  studyId: z.uuid(),
  round: z.int().min(1),
  /** Everything the site approved; the agent runs nothing whose plan hash it has not approved. */
  plan: StudyPlan,
  planHash: PlanHash,
  /** Digest of the global weights the task runs on (offered beside it and pulled in chunks: model-transfer.ts). */
  globalSha256: Sha256,
  deadlineAt: z.iso.datetime(),
  /** FedBN: the attached weights leave out normalization parameters, which stay at each site. */
  excludeNormalization: z.boolean().default(false),
});

/** coordinator -> agent: train on local data starting from the attached global weights. */
export const TrainTask = TaskBase.extend({
  kind: z.literal('train'),
  /** With secure aggregation: the round's maskers and the shares addressed to this site. */
  secureAggregation: MaskingContext.optional(),
});
export type TrainTask = z.infer<typeof TrainTask>;

/** coordinator -> agent: score the attached global weights on the local validation split. */
export const EvaluateTask = TaskBase.extend({ kind: z.literal('evaluate') });
export type EvaluateTask = z.infer<typeof EvaluateTask>;

export const Task = z.discriminatedUnion('kind', [TrainTask, EvaluateTask]);
export type Task = z.infer<typeof Task>;

/** coordinator -> agent: every task is signed by the coordinator's key, which the site pinned at enrollment. */
export const SignedTask = z.strictObject({ task: Task, signature: Signature64 });
export type SignedTask = z.infer<typeof SignedTask>;

/**
 * agent -> coordinator, with the update blob attached: the site's delta (local minus global weights),
 * privatised and compressed per the study, as the tensors of @fedseg/aggregation's update codec.
 */
export const UpdateSubmit = z.object({
  taskId: z.uuid(),
  studyId: z.uuid(),
  round: z.int().min(1),
  samples: z.int().positive(),
  sha256: Sha256,
  trainLoss: z.number().finite(),
  steps: z.int().min(0),
});
export type UpdateSubmit = z.infer<typeof UpdateSubmit>;

/** agent -> coordinator: aggregate metrics of the global model on the site's validation split. */
export const MetricsReport = z.object({
  taskId: z.uuid(),
  studyId: z.uuid(),
  round: z.int().min(1),
  split: z.enum(['train', 'val']),
  samples: z.int().min(0),
  metrics: z.record(
    z
      .string()
      .regex(/^[a-z][a-z0-9_]*$/)
      .max(64),
    z.number(),
  ),
});
export type MetricsReport = z.infer<typeof MetricsReport>;

/** agent -> coordinator, for the live view; no ack needed. */
export const TaskProgress = z.object({
  taskId: z.uuid(),
  studyId: z.uuid(),
  round: z.int().min(1),
  epoch: z.int().min(0),
  epochs: z.int().min(1),
  step: z.int().min(0),
  steps: z.int().min(0),
  loss: z.number().optional(),
});
export type TaskProgress = z.infer<typeof TaskProgress>;

/** agent -> coordinator: the site cannot do this task (too busy, incompatible model, ...). */
export const TaskDeclined = z.object({
  taskId: z.uuid(),
  studyId: z.uuid(),
  round: z.int().min(1),
  kind: z.enum(['train', 'evaluate']),
  reason: z.string().min(1).max(1000),
});
export type TaskDeclined = z.infer<typeof TaskDeclined>;

/** Every ack on the socket. */
export type Ack<T = Record<string, never>> =
  | ({ ok: true } & T)
  | { ok: false; error: { code: string; message: string; details?: Record<string, unknown> } };

export const AgentEvents = {
  hello: 'agent:hello',
  task: 'task',
  updateBegin: 'update:begin',
  updateChunk: 'update:chunk',
  /** agent -> coordinator: one chunk of an offered global model (model-transfer.ts); the ack carries the bytes. */
  modelChunk: 'model:chunk',
  planGet: 'plan:get',
  planApprove: 'plan:approve',
  metricsReport: 'metrics:report',
  taskProgress: 'task:progress',
  taskDeclined: 'task:declined',
  /** coordinator -> agent when a message was refused and the sender gave no ack callback. */
  protocolError: 'protocol:error',
  /** coordinator -> agent: a signed secure-aggregation phase request (advertise, share, unmask). */
  secAggRequest: 'secagg:request',
  /** agent -> coordinator: the signed answer to it. */
  secAggReply: 'secagg:reply',
  /** agent -> coordinator: the site refused a phase request, with why. */
  secAggDeclined: 'secagg:declined',
  /** coordinator -> agent: a signed request for the site's data fingerprint (fingerprint.ts), before round 1. */
  fingerprintRequest: 'fingerprint:request',
  /** agent -> coordinator: the signed fingerprint report. */
  fingerprintReport: 'fingerprint:report',
  /** agent -> coordinator: the site will not send one, with why. */
  fingerprintDeclined: 'fingerprint:declined',
} as const;
