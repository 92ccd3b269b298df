import type { SecAggPhase } from '@fedseg/protocol';

/**
 * The secure-aggregation states of a round, as pure functions: who is expected to answer in each phase,
 * and whether the phase waits, moves on or fails. The StudyRunner does the I/O around them.
 *
 *   advertising --(>= need advertised)--> sharing --(>= need shared)--> training --(>= need masked)-->
 *   unmasking --(>= threshold unmask replies)--> aggregating
 *
 * Any phase that ends at its deadline with fewer than it needs fails the round (model unchanged).
 */
export type SecAggRoundStatus = 'advertising' | 'sharing' | 'training' | 'unmasking';

export const PHASE_OF_STATUS: Record<Exclude<SecAggRoundStatus, 'training'>, SecAggPhase> = {
  advertising: 'advertise',
  sharing: 'share',
  unmasking: 'unmask',
};

export const NEXT_STATUS = {
  advertising: 'sharing',
  sharing: 'training',
  training: 'unmasking',
  unmasking: 'aggregating',
} as const satisfies Record<SecAggRoundStatus, string>;

/** The round's participant sets, each a subset of the one before (Bonawitz's U1 ⊇ U2 ⊇ U3). */
export interface Participants {
  selected: readonly string[];
  /** Advertised keys (U1). */
  advertised: readonly string[];
  /** Sent shares (U2): they mask with each other. */
  maskers: readonly string[];
  /** Masked update received (U3). */
  masked: readonly string[];
  /** Sent unmask shares. */
  unmasked: readonly string[];
}

/** Each set as the intersection with the one before, in sorted order: a late message cannot widen a set. */
export function participantsOf(raw: Participants): Participants {
  const within = (xs: readonly string[], of: readonly string[]) =>
    [...new Set(xs)].filter((x) => of.includes(x)).sort();
  const advertised = within(raw.advertised, raw.selected);
  const maskers = within(raw.maskers, advertised);
  const masked = within(raw.masked, maskers);
  return {
    selected: [...raw.selected].sort(),
    advertised,
    maskers,
    masked,
    unmasked: within(raw.unmasked, masked),
  };
}

/** Who must answer in a status, and what has answered. */
export function phaseMembers(
  status: SecAggRoundStatus,
  p: Participants,
): { expected: readonly string[]; answered: readonly string[] } {
  switch (status) {
    case 'advertising':
      return { expected: p.selected, answered: p.advertised };
    case 'sharing':
      return { expected: p.advertised, answered: p.maskers };
    case 'training':
      return { expected: p.maskers, answered: p.masked };
    case 'unmasking':
      return { expected: p.masked, answered: p.unmasked };
  }
}

/**
 * How many answers a status needs to move on. Key phases and training need max(threshold, minSites): fewer
 * maskers could never be unmasked, or would break the study's minSites. Unmasking needs the threshold only.
 */
export function needed(status: SecAggRoundStatus, threshold: number, minSites: number): number {
  return status === 'unmasking' ? threshold : Math.max(threshold, minSites);
}

export type PhaseDecision =
  | { kind: 'wait'; pending: string[] }
  | { kind: 'advance'; to: (typeof NEXT_STATUS)[SecAggRoundStatus] }
  | { kind: 'fail'; reason: string };

export interface PhaseInput {
  status: SecAggRoundStatus;
  round: number;
  participants: Participants;
  /** Sites that declined (their agent refused or failed the step): not waited for. */
  declined: ReadonlySet<string>;
  threshold: number;
  minSites: number;
  now: number;
  deadline: number;
}

const WHAT: Record<SecAggRoundStatus, string> = {
  advertising: 'advertised keys',
  sharing: 'sent key shares',
  training: 'sent a masked update',
  unmasking: 'sent unmask shares',
};

export function decidePhase(input: PhaseInput): PhaseDecision {
  const { status, participants, threshold } = input;
  const { expected, answered } = phaseMembers(status, participants);
  const need = needed(status, threshold, input.minSites);
  const pending = expected.filter((id) => !answered.includes(id) && !input.declined.has(id));
  const enough = answered.length >= need;
  if (pending.length === 0 || input.now >= input.deadline) {
    if (enough) return { kind: 'advance', to: NEXT_STATUS[status] };
    const why = pending.length === 0 ? 'every other site declined or dropped' : 'the phase deadline passed';
    return {
      kind: 'fail',
      reason: `secure aggregation, round ${input.round}: ${answered.length} of ${expected.length} site(s) ${WHAT[status]} and ${why}; ${need} are needed (threshold ${threshold}, minSites ${input.minSites}). The model is unchanged.`,
    };
  }
  return { kind: 'wait', pending };
}

/** A masked round never selects 2t or more sites: two disjoint groups of t could then each unmask. */
export function maxSitesFor(threshold: number): number {
  return 2 * threshold - 1;
}
