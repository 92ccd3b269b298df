/**
 * Learning rate at `step` of `totalSteps` (0-based). 'poly' is lr0 * (1 - step/totalSteps)^power
 * (Chen et al., 2017, DeepLab; nnU-Net uses power 0.9); it never reaches 0 on the last step.
 */
export function learningRateAt(
  schedule: 'constant' | 'poly',
  baseRate: number,
  step: number,
  totalSteps: number,
  power = 0.9,
): number {
  if (schedule === 'constant' || totalSteps <= 0) return baseRate;
  const progress = Math.min(step, totalSteps - 1) / totalSteps;
  return baseRate * (1 - progress) ** power;
}
