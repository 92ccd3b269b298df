import { z } from 'zod';

const Vec3 = z.tuple([z.int().positive(), z.int().positive(), z.int().positive()]);

/** Local training hyperparameters a study sends with every task. */
export const TrainingConfig = z.object({
  epochs: z.int().min(1).max(1000).default(1),
  batchSize: z.int().min(1).max(256).default(2),
  optimizer: z.enum(['adam', 'sgd']).default('adam'),
  learningRate: z.number().positive().max(10).default(1e-3),
  momentum: z.number().min(0).max(1).default(0.9),
  lrSchedule: z.enum(['constant', 'poly']).default('constant'),
  /** Patch size in voxels; whole volumes are used when they are no larger. */
  patchSize: Vec3.default([16, 16, 16]),
  loss: z.enum(['dice', 'ce', 'dice-ce']).default('dice-ce'),
  /** FedProx proximal weight mu (0 = plain FedAvg local training). */
  fedProxMu: z.number().min(0).default(0),
  /** FedBN: normalization parameters stay at the site and are left out of the update. */
  fedBn: z.boolean().default(false),
  seed: z.int().min(0).default(0),
});
export type TrainingConfig = z.infer<typeof TrainingConfig>;
