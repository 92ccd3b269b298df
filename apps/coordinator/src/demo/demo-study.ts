/**
 * The demo federation's study: a small 3D U-Net on the phantom consortium, every site in every round.
 * `npm run demo` and `npm run bench -- time-to-dice` both run it, so their figures describe the same thing.
 * Returned unparsed (the caller validates it with StudyConfig and reports errors in its own words).
 */
export function demoStudyInput(options: {
  sites: number;
  rounds: number;
  strategy?: string;
  compression?: string;
  name?: string;
}): Record<string, unknown> {
  return {
    name: options.name ?? 'demo: synthetic organ + lesion segmentation',
    model: {
      architecture: 'unet3d',
      inChannels: 1,
      numClasses: 3,
      baseFilters: 4,
      depth: 3,
      normalization: 'instance',
    },
    training: {
      epochs: 3,
      batchSize: 2,
      learningRate: 5e-3,
      patchSize: [32, 32, 32],
      loss: 'dice-ce',
      seed: 1,
    },
    strategy: { name: options.strategy ?? 'fedavg' },
    compression: { codec: options.compression ?? 'none' },
    rounds: options.rounds,
    minSites: options.sites,
    roundDeadlineMs: 5 * 60_000,
    siteWaitMs: 2 * 60_000,
  };
}
