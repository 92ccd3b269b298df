import fs from 'node:fs/promises';
import path from 'node:path';
import { barChartPng, lineChartPng, PALETTE } from './charts';
import type { ExperimentOptions } from './experiment-options';
import type { CurvePoint, SiteScore } from './simulate-methods';

export interface MethodResult {
  method: string;
  /** What the method is, for the tables. */
  description: string;
  steps: number;
  curve: CurvePoint[];
  /** One entry per site's test split, in site order. */
  scores: SiteScore[];
  /** Mean over sites of the site's mean foreground Dice / HD95 / ASSD. */
  meanDice: number;
  meanHd95Mm: number;
  meanAssdMm: number;
}

export interface LocalGeneralization {
  site: string;
  /** Mean Dice of this site's local-only model on the other sites' test splits. */
  localOffSiteDice: number;
  /** Mean Dice of the FedAvg model on the same test splits. */
  fedavgOffSiteDice: number;
  localBelowFedavg: boolean;
}

export interface ExperimentFigures {
  experiment: 'fedseg-federated-vs-centralized';
  options: ExperimentOptions;
  backend: string;
  sites: { name: string; trainCases: number; testCases: number; spacingMm: number[] }[];
  classes: { label: number; name: string }[];
  methods: MethodResult[];
  localGeneralization: LocalGeneralization[];
  headline: Headline;
}

export interface Headline {
  experiment: 'fedseg-federated-vs-centralized';
  centralized_dice: number;
  fedavg_dice: number;
  fedprox_dice: number;
  fedadam_dice: number;
  local_dice_mean: number;
  fedavg_over_centralized: number;
  fedprox_over_centralized: number;
  fedadam_over_centralized: number;
  /** Every site's local-only model scores lower on the other sites' test data than FedAvg does. */
  locals_below_fedavg_off_site: boolean;
  fedavg_reaches_95pct_of_centralized: boolean;
}

const fmt = (v: number, digits = 4): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** NaN and infinities become null in the JSON (JSON has neither). */
function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

export function figuresJson(figures: ExperimentFigures): string {
  return JSON.stringify(figures, jsonReplacer, 2) + '\n';
}

function markdown(f: ExperimentFigures): string {
  const o = f.options;
  const h = f.headline;
  const classNames = f.classes.map((c) => c.name);
  const lines: string[] = [];
  lines.push('# fedseg experiment: federated vs centralized vs local-only training', '');
  lines.push(
    `${o.sites} synthetic non-IID sites (libs/imaging generateConsortium, seed ${o.seed}, heterogeneity ${o.heterogeneity}), ` +
      `${o.casesPerSite} cases of ${o.shape.join('x')} each, ${fmt(o.testFraction * 100, 0)}% held out per site as its test split. ` +
      `Model: ${o.model.architecture}, base filters ${o.model.baseFilters}, depth ${o.model.depth}, ${o.model.numClasses} classes. ` +
      `Local training per round: ${o.training.epochs} epoch(s) of one ${o.training.patchSize.join('x')} patch per case, batch ${o.training.batchSize}, ` +
      `${o.training.optimizer} lr ${o.training.learningRate}, ${o.training.loss} loss. ${o.rounds} rounds; ` +
      `centralized and local-only training get the same number of round-equivalents on the same patches, so every method takes the ` +
      `same optimizer steps per unit of data (centralized = all sites' steps; local-only = one site's). Backend: ${f.backend}` +
      (o.nativeKernels
        ? ' with the oneDNN addon.'
        : ', portable kernels (the oneDNN addon is off: its runs are not bit-reproducible).'),
    '',
  );
  lines.push(
    'Metrics: sliding-window inference on whole test volumes (windows of the training patch size, overlap 0.5, ' +
      "Gaussian weighting, as nnU-Net); per foreground class Dice, HD95 and ASSD in mm at each case's " +
      "spacing (@fedseg/imaging, MONAI's definitions and empty-mask convention: a case whose reference lacks a class is " +
      "undefined for it and left out). A site's figure is the mean over classes of the per-class means over its test cases; " +
      '"mean" columns average the sites with equal weight.',
    '',
  );
  lines.push('## Headline', '');
  lines.push(
    table(
      ['figure', 'value'],
      [
        ['centralized mean Dice', fmt(h.centralized_dice)],
        ['FedAvg mean Dice', fmt(h.fedavg_dice)],
        ['FedProx mean Dice', fmt(h.fedprox_dice)],
        ['FedAdam mean Dice', fmt(h.fedadam_dice)],
        ['local-only mean Dice (each model on every site)', fmt(h.local_dice_mean)],
        ['FedAvg / centralized', fmt(h.fedavg_over_centralized)],
        ['FedAvg >= 95% of centralized', String(h.fedavg_reaches_95pct_of_centralized)],
        ['every local-only model below FedAvg on the other sites', String(h.locals_below_fedavg_off_site)],
      ],
    ),
    '',
  );
  lines.push('## Every model on every site (mean foreground Dice)', '');
  lines.push(
    table(
      ['model', 'steps', ...f.sites.map((s) => s.name), 'mean', 'HD95 mm', 'ASSD mm'],
      f.methods.map((m) => [
        m.method,
        String(m.steps),
        ...m.scores.map((s) => fmt(s.dice)),
        fmt(m.meanDice),
        fmt(m.meanHd95Mm, 2),
        fmt(m.meanAssdMm, 2),
      ]),
    ),
    '',
  );
  lines.push('## Per class (mean over sites)', '');
  const perClass = (m: MethodResult, label: number, key: 'dice' | 'hd95Mm' | 'assdMm'): number => {
    const vs = m.scores.map((s) => s.perClass.find((c) => c.label === label)?.[key] ?? NaN);
    const ok = vs.filter((v) => Number.isFinite(v));
    return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
  };
  lines.push(
    table(
      ['model', ...f.classes.flatMap((c) => [`Dice ${c.name}`, `HD95 ${c.name} mm`, `ASSD ${c.name} mm`])],
      f.methods.map((m) => [
        m.method,
        ...f.classes.flatMap((c) => [
          fmt(perClass(m, c.label, 'dice')),
          fmt(perClass(m, c.label, 'hd95Mm'), 2),
          fmt(perClass(m, c.label, 'assdMm'), 2),
        ]),
      ]),
    ),
    '',
  );
  lines.push('## Local-only models off their own site', '');
  lines.push(
    table(
      ['site', 'local-only model on the other sites', 'FedAvg on the same sites', 'local below FedAvg'],
      f.localGeneralization.map((g) => [
        g.site,
        fmt(g.localOffSiteDice),
        fmt(g.fedavgOffSiteDice),
        String(g.localBelowFedavg),
      ]),
    ),
    '',
  );
  lines.push('## Sites', '');
  lines.push(
    table(
      ['site', 'train cases', 'test cases', 'spacing mm'],
      f.sites.map((s) => [
        s.name,
        String(s.trainCases),
        String(s.testCases),
        s.spacingMm.map((v) => fmt(v, 2)).join(' x '),
      ]),
    ),
    '',
  );
  lines.push('## Plots', '');
  lines.push('![test Dice per round](dice-per-round.png)', '');
  lines.push(
    `Mean test Dice (all sites' test splits) after each round (round-equivalent for centralized and local-only; "local" is the mean of the ${o.sites} local-only models).`,
    '',
  );
  lines.push('![Dice per site](dice-per-site.png)', '');
  lines.push("Mean foreground Dice of each model on each site's test split.", '');
  lines.push(`Class names: ${classNames.join(', ')}. Every figure is in figures.json.`, '');
  return lines.join('\n');
}

/** Writes report.md, figures.json, dice-per-round.png and dice-per-site.png into `dir`. */
export async function writeReport(dir: string, f: ExperimentFigures): Promise<string[]> {
  await fs.mkdir(dir, { recursive: true });
  const locals = f.methods.filter((m) => m.method.startsWith('local-'));
  const shown = f.methods.filter((m) => !m.method.startsWith('local-'));
  const localCurve = (locals[0]?.curve ?? []).map((p, i): readonly [number, number] => [
    p.round,
    locals.reduce((s, m) => s + (m.curve[i]?.meanDice ?? NaN), 0) / locals.length,
  ]);
  const series = [
    ...shown.map((m, i) => ({
      name: m.method,
      color: PALETTE[i % PALETTE.length]!,
      points: m.curve.map((p): readonly [number, number] => [p.round, p.meanDice]),
    })),
    ...(locals.length
      ? [{ name: 'local (mean)', color: PALETTE[shown.length % PALETTE.length]!, points: localCurve }]
      : []),
  ];
  const files: [string, string | Buffer][] = [
    ['figures.json', figuresJson(f)],
    ['report.md', markdown(f)],
    [
      'dice-per-round.png',
      lineChartPng(
        { title: 'MEAN TEST DICE PER ROUND', xLabel: 'ROUND', yLabel: 'DICE', yMin: 0, yMax: 1 },
        series,
      ),
    ],
    [
      'dice-per-site.png',
      barChartPng(
        {
          title: 'TEST DICE PER SITE',
          xLabel: 'TEST SPLIT OF',
          yLabel: 'DICE',
          yMin: 0,
          yMax: 1,
          width: 900,
        },
        f.sites.map((s) => s.name),
        f.methods.map((m, i) => ({
          name: m.method,
          color: PALETTE[i % PALETTE.length]!,
          values: m.scores.map((s) => s.dice),
        })),
      ),
    ],
  ];
  for (const [name, body] of files) await fs.writeFile(path.join(dir, name), body);
  return files.map(([name]) => path.join(dir, name));
}
