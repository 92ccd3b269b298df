import { z } from 'zod';
import { DemoCaseView, ModelConfig, TrainingConfig } from '@fedseg/protocol';

/**
 * What crosses the process boundary between demo-case.service.ts and demo-case-child.ts (IPC with the
 * structured-clone serialization), parsed on arrival like any other input. Imports no tfjs: the
 * coordinator's side loads this file, never demo-case-render.ts.
 */

/** Checked by tag, not instanceof: a structured clone may come from another realm (jest's vm sandbox). */
const Bytes = z.custom<Uint8Array>((v) => Object.prototype.toString.call(v) === '[object Uint8Array]', {
  message: 'expected a Uint8Array',
});

export const DemoCaseRequest = z.object({
  model: ModelConfig,
  training: TrainingConfig,
  /** The checkpoint as stored (encodeWeights). */
  weights: Bytes,
});
export type DemoCaseRequest = z.infer<typeof DemoCaseRequest>;

export const DemoCaseRendered = z.object({
  view: DemoCaseView.omit({ round: true, checkpointSha256: true }),
  image: Bytes,
  label: Bytes,
  prediction: Bytes,
});
export type DemoCaseRendered = z.infer<typeof DemoCaseRendered>;

export const DemoCaseReply = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), out: DemoCaseRendered }),
  z.object({ ok: z.literal(false), message: z.string() }),
]);
export type DemoCaseReply = z.infer<typeof DemoCaseReply>;
