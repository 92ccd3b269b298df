import { z } from 'zod';

const Vec3 = z.tuple([z.int().positive(), z.int().positive(), z.int().positive()]);

/** Local training hyperparameters a study sends with every task. */
export const TrainingConfig = z.object({
  epochs: z.int().min(1).max(1000).default(1),
  batchSize: z.int().min(1).max(256).default(2),
  optimizer: z.enum(['adam', 'sgd']).default('adam'),
  learningRate: z.number().positive().max(10).default(1e-3),
  momentum: z.number().min(0).max(1).default(0.9),
  /** poly: lr * (1 - step / totalSteps)^polyPower, polyPower default 0.9 (nnU-Net's schedule). */
  lrSchedule: z.enum(['constant', 'poly']).default('constant'),
  polyPower: z.number().positive().max(10).optional(),
  /** Patch size in voxels; whole volumes are used when they are no larger. */
  patchSize: Vec3.default([16, 16, 16]),
  loss: z.enum(['dice', 'ce', 'dice-ce']).default('dice-ce'),
  /** Per-class loss weights, index = class id (background first); omitted = all 1. */
  classWeights: z.array(z.number().min(0)).min(2).max(32).optional(),
  /** Soft Dice smoothing added to numerator and denominator; default 1e-5. */
  diceSmooth: z.number().min(0).max(100).optional(),
  /** FedProx proximal weight mu (0 = plain FedAvg local training). */
  fedProxMu: z.number().min(0).default(0),
  /** FedBN: normalization parameters stay at the site and are left out of the update. */
  fedBn: z.boolean().default(false),
  seed: z.int().min(0).default(0),
});
export type TrainingConfig = z.infer<typeof TrainingConfig>;
