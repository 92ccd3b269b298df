import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PHANTOM_LABELS } from '@fedseg/imaging';
import { initBackend } from '@fedseg/models';
import { StrategyConfig } from '@fedseg/protocol';
import { loadConsortium, type SiteSplit } from './consortium-data';
import type { ExperimentOptions } from './experiment-options';
import {
  writeReport,
  type ExperimentFigures,
  type Headline,
  type LocalGeneralization,
  type MethodResult,
} from './experiment-report';
import {
  scoreEverywhere,
  trainFederated,
  trainPooled,
  type Log,
  type TrainedModel,
} from './simulate-methods';

const mean = (values: readonly number[]): number => {
  const ok = values.filter((v) => Number.isFinite(v));
  return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
};

async function result(
  trained: TrainedModel,
  description: string,
  options: ExperimentOptions,
  sites: readonly SiteSplit[],
): Promise<MethodResult> {
  const scores = await scoreEverywhere(trained, options, sites);
  return {
    method: trained.method,
    description,
    steps: trained.steps,
    curve: trained.curve,
    scores,
    meanDice: mean(scores.map((s) => s.dice)),
    meanHd95Mm: mean(scores.map((s) => s.hd95Mm)),
    meanAssdMm: mean(scores.map((s) => s.assdMm)),
  };
}

/**
 * Trains (a) one model on all sites' training data pooled, (b) FedAvg, (c) FedProx and FedAdam, (d) one
 * model per site on its own data, all from the same initial weights with the same per-round training and the
 * same patches, then scores every model on every site's held-out test split. Deterministic for given options
 * on one backend. `dataDir` receives the synthetic consortium's NIfTI files.
 */
export async function runExperiment(
  options: ExperimentOptions,
  dataDir: string,
  log: Log,
): Promise<ExperimentFigures> {
  // Read by the fast-kernel registration that initBackend runs (libs/models kernels/register.ts).
  if (!options.nativeKernels) process.env['FEDSEG_NATIVE'] = '0';
  const backend = await initBackend(options.backend);
  const backendName = backend.name;
  log(`backend ${backendName}${backend.adapter ? ` (${backend.adapter})` : ''}`);
  const sites = await loadConsortium(options, dataDir);
  log(
    `consortium: ${sites.map((s) => `${s.name} ${s.train.length} train / ${s.test.length} test`).join(', ')}`,
  );
  const methods: MethodResult[] = [];
  const add = async (trained: TrainedModel, description: string): Promise<void> => {
    const r = await result(trained, description, options, sites);
    methods.push(r);
    log(`${r.method}: mean test Dice ${r.meanDice.toFixed(4)} (${r.steps} steps)`);
  };
  await add(
    await trainPooled('centralized', options, sites, sites, log),
    'one model on the pooled training data',
  );
  const fedavg = StrategyConfig.parse({ name: 'fedavg' });
  await add(
    await trainFederated('fedavg', fedavg, 0, options, sites, sites, log),
    'FedAvg (McMahan et al., 2017)',
  );
  await add(
    await trainFederated('fedprox', fedavg, options.fedProxMu, options, sites, sites, log),
    `FedProx, mu ${options.fedProxMu} (Li et al., 2020)`,
  );
  const fedadam = StrategyConfig.parse({
    name: 'fedadam',
    serverLearningRate: options.fedAdamServerLearningRate,
  });
  await add(
    await trainFederated('fedadam', fedadam, 0, options, sites, sites, log),
    `FedAdam, server lr ${options.fedAdamServerLearningRate} (Reddi et al., 2021)`,
  );
  for (const site of sites)
    await add(
      await trainPooled(`local-${site.name}`, options, [site], sites, log),
      `trained on ${site.name} alone`,
    );

  const byName = (name: string): MethodResult => methods.find((m) => m.method === name)!;
  const central = byName('centralized');
  const fed = byName('fedavg');
  const localGeneralization: LocalGeneralization[] = sites.map((site, s) => {
    const local = byName(`local-${site.name}`);
    const others = (m: MethodResult): number => mean(m.scores.filter((_, j) => j !== s).map((x) => x.dice));
    const localOffSiteDice = others(local);
    const fedavgOffSiteDice = others(fed);
    return {
      site: site.name,
      localOffSiteDice,
      fedavgOffSiteDice,
      localBelowFedavg: localOffSiteDice < fedavgOffSiteDice,
    };
  });
  const ratio = (name: string): number => byName(name).meanDice / central.meanDice;
  const headline: Headline = {
    experiment: 'fedseg-federated-vs-centralized',
    centralized_dice: central.meanDice,
    fedavg_dice: fed.meanDice,
    fedprox_dice: byName('fedprox').meanDice,
    fedadam_dice: byName('fedadam').meanDice,
    local_dice_mean: mean(methods.filter((m) => m.method.startsWith('local-')).map((m) => m.meanDice)),
    fedavg_over_centralized: ratio('fedavg'),
    fedprox_over_centralized: ratio('fedprox'),
    fedadam_over_centralized: ratio('fedadam'),
    locals_below_fedavg_off_site: localGeneralization.every((g) => g.localBelowFedavg),
    fedavg_reaches_95pct_of_centralized: ratio('fedavg') >= 0.95,
  };
  return {
    experiment: 'fedseg-federated-vs-centralized',
    options,
    backend: backendName,
    sites: sites.map((s) => ({
      name: s.name,
      trainCases: s.train.length,
      testCases: s.test.length,
      spacingMm: [...(s.test[0]?.spacingMm ?? s.train[0]!.volume.spacingMm)],
    })),
    classes: Object.entries(PHANTOM_LABELS)
      .filter(([, label]) => label > 0 && label < options.model.numClasses)
      .map(([name, label]) => ({ label, name })),
    methods,
    localGeneralization,
    headline,
  };
}

/** Runs in a temporary data folder, writes the report folder, returns its figures. */
export async function runAndReport(
  options: ExperimentOptions,
  outDir: string,
  log: Log,
): Promise<ExperimentFigures> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'fedseg-experiment-'));
  try {
    const figures = await runExperiment(options, dataDir, log);
    const files = await writeReport(outDir, figures);
    log(`wrote ${files.join(', ')}`);
    return figures;
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}
