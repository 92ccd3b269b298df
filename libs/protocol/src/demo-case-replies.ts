import { z } from 'zod';

/** The NIfTI volumes of a demo case: the synthetic image, its true labels, a checkpoint's predicted labels. */
export const DemoCaseVolume = z.enum(['image.nii', 'label.nii', 'prediction.nii']);
export type DemoCaseVolume = z.infer<typeof DemoCaseVolume>;

/**
 * GET /studies/:id/demo-case?round=N: the coordinator's own synthetic phantom (never site data), segmented
 * by round N's global model on the coordinator. Dice per foreground class against the phantom's truth; a
 * class absent from both is NaN, sent as null.
 */
export const DemoCaseView = z.object({
  round: z.int().min(0),
  checkpointSha256: z.string().regex(/^[0-9a-f]{64}$/),
  shape: z.tuple([z.int().positive(), z.int().positive(), z.int().positive()]),
  spacingMm: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
  labels: z.array(z.object({ value: z.int().min(1), name: z.string(), dice: z.number().nullable() })),
  inferenceMs: z.number().min(0),
});
export type DemoCaseView = z.infer<typeof DemoCaseView>;
