import { createAggregator, type StrategyState } from '@fedseg/aggregation';
import {
  createSegmentationModel,
  evaluateSegmentation,
  getFlatWeights,
  setFlatWeights,
  trainLocal,
  type SegmentationModel,
} from '@fedseg/models';
import type { FlatWeights, StrategyConfig, TrainingConfig } from '@fedseg/protocol';
import type { SiteSplit } from './consortium-data';
import type { ExperimentOptions } from './experiment-options';

/** Figures of one model on one site's test split (foreground classes 1..K-1; NaN where undefined). */
export interface SiteScore {
  site: string;
  cases: number;
  dice: number;
  hd95Mm: number;
  assdMm: number;
  perClass: { label: number; dice: number; hd95Mm: number; assdMm: number }[];
}

export interface CurvePoint {
  round: number;
  /** Mean over sites of each site's mean foreground Dice on its test split. */
  meanDice: number;
  perSiteDice: number[];
}

export interface TrainedModel {
  method: string;
  weights: FlatWeights;
  curve: CurvePoint[];
  /** Optimizer steps taken in all (the compute budget). */
  steps: number;
}

export type Log = (line: string) => void;

/** The local training of `round` (the agent's rule: the study seed plus the round). */
function roundTraining(options: ExperimentOptions, round: number, fedProxMu = 0): TrainingConfig {
  return { ...options.training, seed: options.training.seed + round, fedProxMu };
}

/**
 * Sliding windows of the training patch size (overlap 0.5, Gaussian weighting), as nnU-Net infers: the
 * instance-norm statistics then cover the same extent as in training. Measured on the default run's
 * centralized model: whole-volume windows score 0.06-0.16 lower mean Dice and vary more between rounds.
 */
const windowOf = (options: ExperimentOptions) => ({ windowSize: options.training.patchSize });

export async function scoreOnSite(
  model: SegmentationModel,
  site: SiteSplit,
  options: ExperimentOptions,
): Promise<SiteScore> {
  const e = await evaluateSegmentation(model, site.test, windowOf(options));
  return {
    site: site.name,
    cases: e.cases,
    dice: e.dice,
    hd95Mm: e.hd95Mm,
    assdMm: e.assdMm,
    perClass: e.perClass.map((c) => ({
      label: c.label,
      dice: c.dice.mean,
      hd95Mm: c.hd95Mm.mean,
      assdMm: c.assdMm.mean,
    })),
  };
}

async function curvePoint(
  model: SegmentationModel,
  sites: readonly SiteSplit[],
  round: number,
  options: ExperimentOptions,
): Promise<CurvePoint> {
  const perSiteDice: number[] = [];
  for (const site of sites)
    perSiteDice.push((await evaluateSegmentation(model, site.test, windowOf(options))).dice);
  return { round, meanDice: perSiteDice.reduce((a, b) => a + b, 0) / perSiteDice.length, perSiteDice };
}

const wantsCurve = (options: ExperimentOptions, round: number): boolean =>
  round % options.evalEvery === 0 || round === options.rounds;

/**
 * Federated training simulated in process: every round each site starts from the global weights, trains
 * `training.epochs` epochs on its own patches (FedProx: with the proximal term), and the strategy of
 * @fedseg/aggregation folds the sites' weights, weighted by their training cases, into the next global
 * model, with its server state carried over (FedAdam's moments), as the coordinator does.
 */
export async function trainFederated(
  method: string,
  strategy: StrategyConfig,
  fedProxMu: number,
  options: ExperimentOptions,
  sites: readonly SiteSplit[],
  evalSites: readonly SiteSplit[],
  log: Log,
): Promise<TrainedModel> {
  const model = createSegmentationModel(options.model, options.training.seed);
  let global = getFlatWeights(model);
  let state: StrategyState | null = null;
  const curve: CurvePoint[] = [];
  let steps = 0;
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const aggregator = createAggregator(strategy, {
        global: global.data,
        state,
        expectedSites: sites.length,
      });
      const training = roundTraining(options, round, fedProxMu);
      const losses: number[] = [];
      for (const site of sites) {
        setFlatWeights(model, global);
        const result = await trainLocal(model, (epoch) => site.patches(training, round, epoch), training, {
          globalWeights: global,
        });
        steps += result.steps;
        losses.push(result.meanLoss);
        aggregator.add({
          siteId: site.name,
          samples: site.train.length,
          weights: getFlatWeights(model).data,
        });
      }
      const next = aggregator.finish();
      global = { manifest: global.manifest, data: Float32Array.from(next.weights) };
      state = next.state;
      setFlatWeights(model, global);
      let line = `${method} round ${round}/${options.rounds}: site loss ${losses.map((l) => l.toFixed(3)).join(' ')}`;
      if (wantsCurve(options, round)) {
        const point = await curvePoint(model, evalSites, round, options);
        curve.push(point);
        line += `, test Dice ${point.meanDice.toFixed(4)}`;
      }
      log(line);
    }
    return { method, weights: global, curve, steps };
  } finally {
    model.dispose();
  }
}

/**
 * One model trained on `sites`' patches pooled, a round-equivalent at a time: the same TrainingConfig and the
 * very same patches the federated sites draw in that round, so the same number of optimizer steps. With one
 * site this is that site's local-only model.
 */
export async function trainPooled(
  method: string,
  options: ExperimentOptions,
  sites: readonly SiteSplit[],
  evalSites: readonly SiteSplit[],
  log: Log,
): Promise<TrainedModel> {
  const model = createSegmentationModel(options.model, options.training.seed);
  const curve: CurvePoint[] = [];
  let steps = 0;
  try {
    for (let round = 1; round <= options.rounds; round++) {
      const training = roundTraining(options, round);
      const result = await trainLocal(
        model,
        (epoch) => sites.flatMap((site) => site.patches(training, round, epoch)),
        training,
      );
      steps += result.steps;
      let line = `${method} round-equivalent ${round}/${options.rounds}: loss ${result.meanLoss.toFixed(3)}`;
      if (wantsCurve(options, round)) {
        const point = await curvePoint(model, evalSites, round, options);
        curve.push(point);
        line += `, test Dice ${point.meanDice.toFixed(4)}`;
      }
      log(line);
    }
    return { method, weights: getFlatWeights(model), curve, steps };
  } finally {
    model.dispose();
  }
}

/** Scores trained weights on every site's test split. */
export async function scoreEverywhere(
  trained: TrainedModel,
  options: ExperimentOptions,
  sites: readonly SiteSplit[],
): Promise<SiteScore[]> {
  const model = createSegmentationModel(options.model, 0);
  try {
    setFlatWeights(model, trained.weights);
    const scores: SiteScore[] = [];
    for (const site of sites) scores.push(await scoreOnSite(model, site, options));
    return scores;
  } finally {
    model.dispose();
  }
}
