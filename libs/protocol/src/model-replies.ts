import { z } from 'zod';

/**
 * One row of GET /studies/:id/checkpoints: a committed global model and the study-level figures of the
 * round that produced it (round 0 is the initial model: no figures). The bytes come from
 * GET /studies/:id/model?round=N, whose x-fedseg-sha256 header repeats `sha256`.
 */
export const CheckpointView = z.object({
  round: z.int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.int().min(0),
  createdAt: z.iso.datetime(),
  /** Sample-weighted means over the sites (null when none reported, or a NaN mean). */
  trainLoss: z.number().nullable(),
  valDice: z.number().nullable(),
  valHd95Mm: z.number().nullable(),
  valAssdMm: z.number().nullable(),
});
export type CheckpointView = z.infer<typeof CheckpointView>;

export const CheckpointList = z.array(CheckpointView);
export type CheckpointList = z.infer<typeof CheckpointList>;
