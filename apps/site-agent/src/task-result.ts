import type { UpdateSubmit } from '@fedseg/protocol';

/*
 * What both agent threads share about a task's outcome. Kept apart from task-executor.ts so that the socket
 * thread never loads tfjs (task-executor imports @fedseg/models): only the compute thread pays for it.
 */

/** The site declines a task by rule (privacy floor, plan mismatch); the reason is sent to the coordinator. */
export class TaskRefusedError extends Error {}

/**
 * Secure aggregation: turns the site's weighted delta into its masked ring vector (SecAggSite.mask). Async: the
 * compute thread asks the socket thread, which alone holds the site's secrets.
 */
export type MaskUpdate = (delta: Float32Array, weight: number) => Uint32Array | Promise<Uint32Array>;

export interface TrainResult {
  meta: UpdateSubmit;
  /** The encoded (not yet encrypted) update; sealed for the coordinator just before it is sent. */
  blob: Uint8Array;
  codec: string;
}
