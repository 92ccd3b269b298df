import { z } from 'zod';

/**
 * The Medical Segmentation Decathlon dataset.json (Simpson et al., 2019, "A large annotated medical image dataset
 * for the development and evaluation of segmentation algorithms"): modality and labels keyed by index strings,
 * training pairs as paths relative to the dataset folder. Unknown fields are kept (nnU-Net and others add some).
 */
export const DatasetJson = z.looseObject({
  name: z.string().optional(),
  description: z.string().optional(),
  tensorImageSize: z.string().optional(),
  modality: z.record(z.string().regex(/^\d+$/), z.string()).optional(),
  labels: z.record(z.string().regex(/^\d+$/), z.string()),
  numTraining: z.int().min(0).optional(),
  training: z.array(z.object({ image: z.string().min(1), label: z.string().min(1) })),
  test: z.array(z.unknown()).optional(),
});
export type DatasetJson = z.infer<typeof DatasetJson>;
