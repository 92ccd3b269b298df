/**
 * A plain round as a pure state machine: (state, event, now) -> next state + effects. The StudyRunner does the
 * I/O around it (reads the state from the database, carries out the effects, persists each transition before
 * announcing it); secure-aggregation rounds run their key phases through secure-aggregation-phase.ts and
 * join here at `aggregating`.
 *
 *   training --(every selected site answered or declined, >= minSites updates)--> aggregating
 *   training --(deadline, >= minSites updates)--> aggregating
 *   training --(deadline or nobody left to wait for, < minSites updates)--> failed
 *   aggregating --(aggregated)--> evaluating --(no online evaluator pending, or deadline)--> completed
 *   aggregating --(aggregation error)--> failed (model unchanged)
 *
 * A site lost mid-training is waited for until the round's deadline (it may reconnect and deliver). During
 * evaluation an offline site counts only if it returns before the evaluation deadline; once every online
 * evaluator reported, offline ones are waited for only for a short reconnect grace.
 */

export type EngineStatus = 'training' | 'aggregating' | 'evaluating' | 'completed' | 'failed';

export interface RoundState {
  index: number;
  status: EngineStatus;
  selected: readonly string[];
  minSites: number;
  /** ms since the epoch */
  trainingDeadline: number;
  /** Set when the round enters `evaluating`. */
  evaluationDeadline: number | null;
  /** Offline evaluators are not waited for after this (see RECONNECT_GRACE_MS). */
  reconnectGraceUntil: number | null;
  /** Sites whose update the round accepted; duplicates cannot enter a set. */
  updates: ReadonlySet<string>;
  /** Sites that reported validation metrics for the round's model. */
  reported: ReadonlySet<string>;
  declinedTraining: ReadonlySet<string>;
  declinedEvaluation: ReadonlySet<string>;
  /** Connected sites (of any study). */
  online: ReadonlySet<string>;
  /** Online, consenting sites of the study that were not selected but score each new model too. */
  extraEvaluators: ReadonlySet<string>;
  studyRunning: boolean;
  failureReason: string | null;
}

export type RoundEvent =
  | { type: 'tick' }
  | { type: 'update-accepted'; siteId: string }
  | { type: 'metrics-reported'; siteId: string }
  | { type: 'task-declined'; siteId: string; kind: 'train' | 'evaluate' }
  | { type: 'site-online'; siteId: string }
  | { type: 'site-offline'; siteId: string }
  | { type: 'study-paused' }
  | { type: 'study-resumed' }
  | { type: 'aggregated'; evaluationDeadlineMs: number }
  | { type: 'aggregation-failed'; reason: string };

export type RoundEffect =
  | { type: 'send-tasks'; kind: 'train' | 'evaluate'; siteIds: string[] }
  /** Aggregate exactly these sites' updates (site order), then report `aggregated` or `aggregation-failed`. */
  | { type: 'aggregate'; siteIds: string[] }
  | { type: 'persist-status'; status: 'aggregating' }
  | { type: 'complete' }
  | { type: 'fail'; reason: string }
  /** The study is not running: leave the round as it is, to be picked up when the study resumes. */
  | { type: 'halt' }
  | { type: 'wait'; until: number };

/** Agents reconnect with a jittered backoff capped at 30 s; an offline evaluator gets one such interval. */
export const RECONNECT_GRACE_MS = 30_000;

export function applyEvent(state: RoundState, event: RoundEvent, now: number): RoundState {
  switch (event.type) {
    case 'tick':
      return state;
    case 'update-accepted':
      // Late (after training) and unselected updates are refused at admission; the engine ignores them too.
      if (state.status !== 'training' || !state.selected.includes(event.siteId)) return state;
      return { ...state, updates: withMember(state.updates, event.siteId) };
    case 'metrics-reported':
      if (state.status !== 'evaluating') return state;
      return { ...state, reported: withMember(state.reported, event.siteId) };
    case 'task-declined':
      return event.kind === 'train'
        ? { ...state, declinedTraining: withMember(state.declinedTraining, event.siteId) }
        : { ...state, declinedEvaluation: withMember(state.declinedEvaluation, event.siteId) };
    case 'site-online':
      return { ...state, online: withMember(state.online, event.siteId) };
    case 'site-offline': {
      const online = new Set(state.online);
      online.delete(event.siteId);
      const extraEvaluators = new Set(state.extraEvaluators);
      extraEvaluators.delete(event.siteId);
      return { ...state, online, extraEvaluators };
    }
    case 'study-paused':
      return { ...state, studyRunning: false };
    case 'study-resumed':
      return { ...state, studyRunning: true };
    case 'aggregated':
      if (state.status !== 'aggregating') return state;
      return {
        ...state,
        status: 'evaluating',
        evaluationDeadline: now + event.evaluationDeadlineMs,
        reconnectGraceUntil: now + Math.min(RECONNECT_GRACE_MS, event.evaluationDeadlineMs),
      };
    case 'aggregation-failed':
      if (state.status !== 'aggregating') return state;
      return { ...state, status: 'failed', failureReason: event.reason };
  }
}

/** What the round does next from this state: its next status (if it changes) and the effects to carry out. */
export function decideRound(state: RoundState, now: number): { state: RoundState; effects: RoundEffect[] } {
  if (!state.studyRunning) return { state, effects: [{ type: 'halt' }] };
  switch (state.status) {
    case 'training':
      return decideTraining(state, now);
    case 'aggregating':
      return { state, effects: [{ type: 'aggregate', siteIds: sorted(state.updates) }] };
    case 'evaluating':
      return decideEvaluation(state, now);
    case 'completed':
      return { state, effects: [] };
    case 'failed':
      return { state, effects: [{ type: 'fail', reason: state.failureReason ?? 'round failed' }] };
  }
}

/** One step: the event applied, then the decision. */
export function stepRound(
  state: RoundState,
  event: RoundEvent,
  now: number,
): { state: RoundState; effects: RoundEffect[] } {
  return decideRound(applyEvent(state, event, now), now);
}

/** Selected sites still expected to train: neither answered nor declined. */
export function pendingTraining(state: RoundState): string[] {
  return state.selected.filter((id) => !state.updates.has(id) && !state.declinedTraining.has(id));
}

function decideTraining(state: RoundState, now: number): { state: RoundState; effects: RoundEffect[] } {
  const pending = pendingTraining(state);
  const received = state.updates.size;
  const quorum = received >= state.minSites;
  if (pending.length === 0 || now >= state.trainingDeadline) {
    if (quorum) {
      const next = { ...state, status: 'aggregating' as const };
      return {
        state: next,
        effects: [
          { type: 'persist-status', status: 'aggregating' },
          { type: 'aggregate', siteIds: sorted(state.updates) },
        ],
      };
    }
    const reason =
      pending.length === 0
        ? `round ${state.index}: every selected site answered or declined, with ${received} update(s); minSites is ${state.minSites}`
        : `round ${state.index} got ${received} update(s) before its deadline; minSites is ${state.minSites}`;
    return {
      state: { ...state, status: 'failed', failureReason: reason },
      effects: [{ type: 'fail', reason }],
    };
  }
  const online = pending.filter((id) => state.online.has(id));
  return {
    state,
    effects: [
      ...(online.length > 0
        ? [{ type: 'send-tasks' as const, kind: 'train' as const, siteIds: online }]
        : []),
      { type: 'wait', until: state.trainingDeadline },
    ],
  };
}

function decideEvaluation(state: RoundState, now: number): { state: RoundState; effects: RoundEffect[] } {
  const deadline = state.evaluationDeadline ?? now;
  const evaluators = new Set([...state.selected, ...state.extraEvaluators]);
  const pending = [...evaluators].filter(
    (id) => !state.reported.has(id) && !state.declinedEvaluation.has(id),
  );
  const pendingOnline = pending.filter((id) => state.online.has(id));
  const graceOver = now >= (state.reconnectGraceUntil ?? deadline);
  if (now >= deadline || pending.length === 0 || (pendingOnline.length === 0 && graceOver))
    return { state: { ...state, status: 'completed' }, effects: [{ type: 'complete' }] };
  const until =
    pendingOnline.length > 0 ? deadline : Math.min(deadline, state.reconnectGraceUntil ?? deadline);
  return {
    state,
    effects: [
      ...(pendingOnline.length > 0
        ? [{ type: 'send-tasks' as const, kind: 'evaluate' as const, siteIds: pendingOnline }]
        : []),
      { type: 'wait', until },
    ],
  };
}

/**
 * What a round accepts: an update only while it trains, from a site it selected, once. Checked before the
 * bytes are taken and again under the round's row lock, so an update racing the round's close is either
 * stored before the close or refused.
 */
export function admitUpdate(
  round: { index: number; status: string; selected: readonly string[] },
  site: { siteId: string; name: string },
  alreadySent: boolean,
): { code: 'ROUND_CLOSED' | 'SITE_NOT_SELECTED' | 'DUPLICATE_UPDATE'; message: string } | null {
  if (round.status !== 'training')
    return {
      code: 'ROUND_CLOSED',
      message: `Round ${round.index} is ${round.status}; it no longer accepts updates.`,
    };
  if (!round.selected.includes(site.siteId))
    return {
      code: 'SITE_NOT_SELECTED',
      message: `Site ${site.name} was not selected for round ${round.index}.`,
    };
  if (alreadySent)
    return {
      code: 'DUPLICATE_UPDATE',
      message: `Site ${site.name} already sent its update for round ${round.index}.`,
    };
  return null;
}

/** Validation metrics are taken only while the round evaluates, once per site. */
export function admitMetrics(
  round: { index: number; status: string },
  site: { name: string },
  split: string,
  alreadyReported: boolean,
): { code: 'ROUND_CLOSED' | 'DUPLICATE_METRICS'; message: string } | null {
  if (split === 'val' && round.status !== 'evaluating')
    return {
      code: 'ROUND_CLOSED',
      message: `Round ${round.index} is ${round.status}; it is not collecting evaluations.`,
    };
  if (alreadyReported)
    return {
      code: 'DUPLICATE_METRICS',
      message: `Site ${site.name} already reported ${split} metrics for round ${round.index}.`,
    };
  return null;
}

/**
 * After a failed round: start another (the model is unchanged, so the retry trains from the same weights)
 * while the study's retry budget lasts, else pause for a person to look.
 */
export function afterRoundFailure(
  retries: number,
  consecutiveFailures: number,
): { action: 'retry' } | { action: 'pause'; note: string } {
  if (consecutiveFailures <= retries) return { action: 'retry' };
  return {
    action: 'pause',
    note:
      retries === 0
        ? 'the study pauses at a failed round (roundRetries is 0)'
        : `${consecutiveFailures} rounds failed in a row; roundRetries is ${retries}`,
  };
}

function withMember(set: ReadonlySet<string>, member: string): ReadonlySet<string> {
  if (set.has(member)) return set;
  return new Set([...set, member]);
}

function sorted(set: ReadonlySet<string>): string[] {
  return [...set].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
