import { z } from 'zod';
import { ModelConfig, TrainingConfig } from '@fedseg/protocol';

const Vec3 = z.tuple([z.int().positive(), z.int().positive(), z.int().positive()]);

/**
 * Everything that decides an experiment's figures. Two runs with equal options on the same backend give
 * the same figures.json (training is seeded; nothing reads the clock or the OS RNG).
 */
export const ExperimentOptions = z.strictObject({
  seed: z.int().min(0),
  /** The synthetic consortium (libs/imaging generateConsortium; heterogeneity 1 is its non-IID default). */
  sites: z.int().min(2).max(16),
  casesPerSite: z.int().min(2),
  shape: Vec3,
  heterogeneity: z.number().min(0).max(2),
  /** Share of each site's cases held out as its test split (never trained on by any method). */
  testFraction: z.number().gt(0).lt(1),
  model: ModelConfig,
  /** One site's local training per round (the agent's TrainingConfig); `seed` varies with the round. */
  training: TrainingConfig,
  /** Federated rounds; centralized and local-only training get the same number of round-equivalents. */
  rounds: z.int().min(1),
  /** FedProx proximal weight mu (Li et al., 2020). */
  fedProxMu: z.number().positive(),
  /** FedAdam server learning rate (Reddi et al., 2021). */
  fedAdamServerLearningRate: z.number().positive(),
  /** Score every model on every test split after every this many rounds (the curves); the last round always. */
  evalEvery: z.int().min(1),
  backend: z.enum(['auto', 'wasm', 'cpu', 'webgpu', 'tensorflow']),
  /**
   * Use the optional oneDNN addon (libs/native-kernels). Off by default: it picks each convolution's layout by
   * timing it and sums across OpenMP threads, so two runs differ in the last bits (measured: quick-mode Dice
   * differs in the 4th digit between runs); without it every kernel is single-threaded and the figures repeat
   * bit for bit, at about 1.5x the time per step.
   */
  nativeKernels: z.boolean(),
  /** Share of training patches centred on foreground (the agent's site-data.ts uses 0.5). */
  foregroundRatio: z.number().min(0).max(1),
});
export type ExperimentOptions = z.infer<typeof ExperimentOptions>;
export type ExperimentOptionsInput = z.input<typeof ExperimentOptions>;

const common = {
  seed: 7,
  sites: 4,
  heterogeneity: 1,
  // A third of each site's cases held out: 8 train + 4 test of 12 (even counts: whole batches of 2).
  testFraction: 1 / 3,
  fedProxMu: 0.01,
  fedAdamServerLearningRate: 0.01,
  backend: 'auto',
  nativeKernels: false,
  foregroundRatio: 0.5,
} as const;

/** The default run: 4 sites x 12 cases of 32^3 (8 train, 4 test each). Under 30 minutes on 2 cores. */
export const DEFAULT_OPTIONS: ExperimentOptionsInput = {
  ...common,
  casesPerSite: 12,
  shape: [32, 32, 32],
  model: { architecture: 'unet3d', numClasses: 3, baseFilters: 8, depth: 3, normalization: 'instance' },
  training: {
    epochs: 4,
    batchSize: 2,
    learningRate: 5e-3,
    patchSize: [16, 16, 16],
    loss: 'dice-ce',
    seed: 1,
  },
  rounds: 40,
  evalEvery: 8,
};

/** --quick: the same consortium recipe, smaller and shorter; about a minute. Figures are not the claim. */
export const QUICK_OPTIONS: ExperimentOptionsInput = {
  ...common,
  casesPerSite: 6,
  shape: [16, 16, 16],
  model: { architecture: 'unet3d', numClasses: 3, baseFilters: 4, depth: 2, normalization: 'instance' },
  training: {
    epochs: 2,
    batchSize: 2,
    learningRate: 5e-3,
    patchSize: [16, 16, 16],
    loss: 'dice-ce',
    seed: 1,
  },
  rounds: 6,
  evalEvery: 2,
};

export interface ExperimentArgs {
  options: ExperimentOptions;
  outDir: string;
  quick: boolean;
}

/**
 * `--quick`, `--out DIR` (default .fedseg/experiment, or .fedseg/experiment-quick), `--seed N`, `--rounds N`,
 * `--backend NAME`, `--native` (also `--name=value`).
 */
export function parseExperimentArgs(argv: readonly string[]): ExperimentArgs {
  const get = (name: string): string | undefined => {
    const eq = argv.find((a) => a.startsWith(`--${name}=`));
    if (eq) return eq.slice(name.length + 3);
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const known = new Set(['quick', 'out', 'seed', 'rounds', 'backend', 'native']);
  for (const a of argv) {
    const name = a.startsWith('--') ? a.slice(2).split('=')[0]! : undefined;
    if (name !== undefined && !known.has(name))
      throw new Error(
        `Unknown option ${a}; usage: npm run experiment -- [--quick] [--out DIR] [--seed N] [--rounds N] [--backend auto|wasm|cpu|webgpu|tensorflow] [--native]`,
      );
  }
  const quick = argv.includes('--quick');
  const base = quick ? QUICK_OPTIONS : DEFAULT_OPTIONS;
  const seed = get('seed');
  const rounds = get('rounds');
  const backend = get('backend');
  const parsed = ExperimentOptions.safeParse({
    ...base,
    ...(seed !== undefined ? { seed: Number(seed) } : {}),
    ...(rounds !== undefined ? { rounds: Number(rounds) } : {}),
    ...(backend !== undefined ? { backend } : {}),
    ...(argv.includes('--native') ? { nativeKernels: true } : {}),
  });
  if (!parsed.success) throw new Error(`Bad experiment options:\n${z.prettifyError(parsed.error)}`);
  return {
    options: parsed.data,
    outDir: get('out') ?? `.fedseg/experiment${quick ? '-quick' : ''}`,
    quick,
  };
}
