import type { z } from 'zod';
import {
  Architecture,
  CompressionConfig,
  ModelConfig,
  PrivacyConfig,
  StrategyConfig,
  TrainingConfig,
} from '@fedseg/protocol/web';

/**
 * The create-study form's state and its translation to a StudyConfig body. Every input is a string as typed;
 * an empty optional one is left out so the server's documented default applies. The choices come from the
 * protocol's own schemas, so a strategy or codec added there appears here without an edit.
 */
export const ARCHITECTURES = Architecture.options;
export const STRATEGIES = StrategyConfig.options.map((o) => o.shape.name.value);
export const PRIVACY_MODES = PrivacyConfig.options.map((o) => o.shape.mode.value);
export const CODECS = CompressionConfig.options.map((o) => o.shape.codec.value);
export const CONSENT_POLICIES = ['quorum', 'all-invited'] as const;

export interface StudyFormState {
  name: string;
  description: string;
  architecture: string;
  numClasses: string;
  baseFilters: string;
  depth: string;
  epochs: string;
  batchSize: string;
  learningRate: string;
  /** "16x16x16" (voxels). */
  patchSize: string;
  strategy: string;
  privacy: string;
  clipNorm: string;
  noiseMultiplier: string;
  epsilonBudget: string;
  targetDelta: string;
  codec: string;
  topKFraction: string;
  /** Secure aggregation (Bonawitz et al., 2017) on or off; its Shamir threshold t when on. */
  secAgg: boolean;
  secAggThreshold: string;
  rounds: string;
  minSites: string;
  /** Seconds in the form, milliseconds on the wire (roundDeadlineMs). */
  deadlineS: string;
  consent: string;
  /** Site names; none means any enrolled site. */
  sites: readonly string[];
}

export const EMPTY_FORM: StudyFormState = {
  name: '',
  description: '',
  architecture: 'unet3d',
  numClasses: '2',
  baseFilters: '8',
  depth: '3',
  epochs: '1',
  batchSize: '2',
  learningRate: '0.001',
  patchSize: '16x16x16',
  strategy: 'fedavg',
  privacy: 'none',
  clipNorm: '1',
  noiseMultiplier: '1',
  epsilonBudget: '10',
  targetDelta: '',
  codec: 'none',
  topKFraction: '',
  secAgg: false,
  secAggThreshold: '2',
  rounds: '10',
  minSites: '1',
  deadlineS: '600',
  consent: 'quorum',
  sites: [],
};

/** Field name -> the StudyConfig path whose errors it shows (the server's 400 names these paths). */
export const FIELD_PATHS: Readonly<Record<keyof StudyFormState, string>> = {
  name: 'name',
  description: 'description',
  architecture: 'model.architecture',
  numClasses: 'model.numClasses',
  baseFilters: 'model.baseFilters',
  depth: 'model.depth',
  epochs: 'training.epochs',
  batchSize: 'training.batchSize',
  learningRate: 'training.learningRate',
  patchSize: 'training.patchSize',
  strategy: 'strategy',
  privacy: 'privacy.mode',
  clipNorm: 'privacy.clipNorm',
  noiseMultiplier: 'privacy.noiseMultiplier',
  epsilonBudget: 'privacy.epsilonBudget',
  targetDelta: 'privacy.targetDelta',
  codec: 'compression.codec',
  topKFraction: 'compression.fraction',
  secAgg: 'secureAggregation',
  secAggThreshold: 'secureAggregation.threshold',
  rounds: 'rounds',
  minSites: 'minSites',
  deadlineS: 'roundDeadlineMs',
  consent: 'consent.policy',
  sites: 'sites',
};

/** A number as typed; NaN stays NaN so the schema names the field, '' is absent. */
function num(s: string): number | undefined {
  return s.trim() === '' ? undefined : Number(s);
}

function patch(s: string): number[] | undefined {
  if (s.trim() === '') return undefined;
  const parts = s.split(/\s*[x×,]\s*/).map(Number);
  return parts.length === 1 ? [parts[0]!, parts[0]!, parts[0]!] : parts;
}

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The POST /studies body. Strategy-specific settings keep their documented defaults. */
export function toStudyConfig(f: StudyFormState): Record<string, unknown> {
  const dp = f.privacy === 'central' || f.privacy === 'local';
  const deadline = num(f.deadlineS);
  return defined({
    name: f.name.trim(),
    description: f.description.trim() === '' ? undefined : f.description.trim(),
    model: defined({
      architecture: f.architecture,
      numClasses: num(f.numClasses),
      baseFilters: num(f.baseFilters),
      depth: num(f.depth),
    }),
    training: defined({
      epochs: num(f.epochs),
      batchSize: num(f.batchSize),
      learningRate: num(f.learningRate),
      patchSize: patch(f.patchSize),
    }),
    strategy: { name: f.strategy },
    privacy: dp
      ? defined({
          mode: f.privacy,
          clipNorm: num(f.clipNorm),
          noiseMultiplier: num(f.noiseMultiplier),
          epsilonBudget: num(f.epsilonBudget),
          targetDelta: num(f.targetDelta),
        })
      : { mode: f.privacy },
    compression:
      f.codec === 'top-k' ? defined({ codec: f.codec, fraction: num(f.topKFraction) }) : { codec: f.codec },
    // Checked by the server only: its schema lives beside the signed key-exchange messages (node:crypto).
    secureAggregation: f.secAgg ? defined({ threshold: num(f.secAggThreshold) }) : undefined,
    rounds: num(f.rounds),
    minSites: num(f.minSites),
    // Whole milliseconds: the schema wants an integer, and a typed "0.5" s is a fine deadline.
    roundDeadlineMs: deadline === undefined ? undefined : Math.round(deadline * 1000),
    consent: { policy: f.consent },
    sites: f.sites.length > 0 ? [...f.sites] : undefined,
  });
}

/** One problem with one config path, as the server's ValidationError lists them in `details.issues`. */
export interface FieldIssue {
  path: string;
  message: string;
}

function issuesOf(schema: z.ZodType, value: unknown, prefix: string): FieldIssue[] {
  const r = schema.safeParse(value);
  if (r.success) return [];
  return r.error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].join('.'),
    message: i.message,
  }));
}

/**
 * What the browser can check before sending: each config section against the protocol's schema for it. The
 * top-level fields and the rules across sections (minSites against the invited sites, …) are the server's:
 * its 400 comes back as the same FieldIssue list.
 */
export function checkLocally(config: Record<string, unknown>): FieldIssue[] {
  const issues = [
    ...issuesOf(ModelConfig, config['model'], 'model'),
    ...issuesOf(TrainingConfig, config['training'], 'training'),
    ...issuesOf(StrategyConfig, config['strategy'], 'strategy'),
    ...issuesOf(PrivacyConfig, config['privacy'], 'privacy'),
    ...issuesOf(CompressionConfig, config['compression'], 'compression'),
  ];
  if (typeof config['name'] !== 'string' || config['name'] === '')
    issues.push({ path: 'name', message: 'A study needs a name.' });
  return issues;
}

/** Issues per form field; those no field shows (a path the form has no input for) under `rest`. */
export function issuesByField(issues: readonly FieldIssue[]): {
  fields: Partial<Record<keyof StudyFormState, string[]>>;
  rest: FieldIssue[];
} {
  const fields: Partial<Record<keyof StudyFormState, string[]>> = {};
  const rest: FieldIssue[] = [];
  const entries = Object.entries(FIELD_PATHS) as Array<[keyof StudyFormState, string]>;
  for (const issue of issues) {
    // The longest matching path wins: `privacy.clipNorm` over `privacy`; `training.patchSize.1` goes to patchSize.
    const match = entries
      .filter(([, p]) => issue.path === p || issue.path.startsWith(p + '.'))
      .sort((a, b) => b[1].length - a[1].length)[0];
    if (match) (fields[match[0]] ??= []).push(issue.message);
    else rest.push(issue);
  }
  return { fields, rest };
}
