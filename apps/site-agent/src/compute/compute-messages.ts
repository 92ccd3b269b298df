import { z } from 'zod';
import {
  BackendInfo,
  MetricsReport,
  SiteFingerprint,
  UpdateSubmit,
  type EvaluateTask,
  type TrainTask,
} from '@fedseg/protocol';

/*
 * The messages between the agent's socket thread and its compute thread (compute-worker.ts). Both ends run our
 * code in one process, but the worker's replies are still parsed here: a bug on one side shows up as a clear
 * error on the other instead of an undefined field deep in the socket code.
 */

/** What the compute thread needs to load the site's data and pick a backend. */
export const ComputeInit = z.strictObject({
  data: z.string().min(1),
  valFraction: z.number().min(0).max(0.9),
  seed: z.int().min(0),
  backend: z.enum(['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu']),
  site: z.string().min(1),
  dumpUpdates: z.string().optional(),
});
export type ComputeInit = z.infer<typeof ComputeInit>;

/** socket thread -> compute thread. Tasks were checked (signature, approved plan) before they are sent. */
export type ComputeRequest =
  | { type: 'init'; options: ComputeInit }
  | { type: 'train'; id: number; task: TrainTask; weights: Uint8Array; masked: boolean }
  | { type: 'evaluate'; id: number; task: EvaluateTask; weights: Uint8Array }
  | { type: 'fingerprint'; id: number; memoryMb?: number }
  /** The answer to a `mask` request: the masked ring vector, or why masking failed. */
  | { type: 'masked'; id: number; ring: Uint32Array }
  | { type: 'mask-failed'; id: number; message: string };

const Id = z.int().min(0);
// z.custom, not z.instanceof: the arrays may sit on any ArrayBuffer (tfjs and the codecs hand out views).
const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected a Uint8Array');
const Floats = z.custom<Float32Array>((v) => v instanceof Float32Array, 'expected a Float32Array');

export const TrainProgressMessage = z.strictObject({
  epoch: z.int().min(0),
  epochs: z.int().min(1),
  step: z.int().min(0),
  steps: z.int().min(0),
  loss: z.number().optional(),
});
export type TrainProgress = z.infer<typeof TrainProgressMessage>;

/** compute thread -> socket thread. */
export const ComputeReply = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('ready'),
    backend: BackendInfo,
    kernels: z.string(),
    trainCases: z.int().min(0),
    valCases: z.int().min(0),
  }),
  z.strictObject({ type: z.literal('init-failed'), message: z.string() }),
  z.strictObject({ type: z.literal('log'), level: z.enum(['info', 'warn']), line: z.string() }),
  z.strictObject({ type: z.literal('train-progress'), id: Id, progress: TrainProgressMessage }),
  z.strictObject({
    type: z.literal('evaluate-progress'),
    id: Id,
    /** Validation case (0-based) and how many there are; windows done and total in that case. */
    caseIndex: z.int().min(0),
    cases: z.int().min(1),
    done: z.int().min(0),
    total: z.int().min(0),
  }),
  /** Secure aggregation: the site's secrets stay on the socket thread, so masking is asked for there. */
  z.strictObject({
    type: z.literal('mask'),
    id: Id,
    delta: Floats,
    weight: z.number().positive(),
  }),
  z.strictObject({
    type: z.literal('trained'),
    id: Id,
    meta: UpdateSubmit,
    blob: Bytes,
    codec: z.string().min(1),
  }),
  z.strictObject({ type: z.literal('evaluated'), id: Id, report: MetricsReport }),
  z.strictObject({ type: z.literal('fingerprinted'), id: Id, fingerprint: SiteFingerprint }),
  /** `refused`: the site declines the task by rule (privacy floor, plan mismatch); otherwise it failed. */
  z.strictObject({ type: z.literal('failed'), id: Id, refused: z.boolean(), message: z.string() }),
]);
export type ComputeReply = z.infer<typeof ComputeReply>;

/**
 * What to list in postMessage's transfer list to move `bytes` to the other thread instead of copying them (a
 * model or an update: 200 MB at 50M parameters, copied while both threads hold it): its buffer, when the
 * view spans all of it (not a slice of a pooled Buffer, whose neighbours would go too) and it is not shared.
 * The sender's view is detached afterwards, and must not be used again.
 */
export function movable(bytes: Uint8Array): ArrayBuffer[] {
  const buffer = bytes.buffer;
  return buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength
    ? [buffer]
    : [];
}
