import {
  RECONNECT_GRACE_MS,
  admitMetrics,
  admitUpdate,
  afterRoundFailure,
  decideRound,
  stepRound,
  type RoundEvent,
  type RoundState,
} from './round-engine';

const T0 = 1_000_000;
const DEADLINE = T0 + 60_000;

function training(overrides: Partial<RoundState> = {}): RoundState {
  return {
    index: 3,
    status: 'training',
    selected: ['s1', 's2', 's3', 's4'],
    minSites: 3,
    trainingDeadline: DEADLINE,
    evaluationDeadline: null,
    reconnectGraceUntil: null,
    updates: new Set(),
    reported: new Set(),
    declinedTraining: new Set(),
    declinedEvaluation: new Set(),
    online: new Set(['s1', 's2', 's3', 's4']),
    extraEvaluators: new Set(),
    studyRunning: true,
    failureReason: null,
    ...overrides,
  };
}

function run(state: RoundState, events: RoundEvent[], now: number) {
  let current = { state, effects: decideRound(state, now).effects };
  for (const event of events) current = stepRound(current.state, event, now);
  return current;
}

const accepted = (...ids: string[]): RoundEvent[] =>
  ids.map((siteId) => ({ type: 'update-accepted', siteId }));

describe('round engine: training', () => {
  it('sends the task to every online selected site and waits until the deadline', () => {
    const { state, effects } = decideRound(training(), T0);
    expect(state.status).toBe('training');
    expect(effects).toEqual([
      { type: 'send-tasks', kind: 'train', siteIds: ['s1', 's2', 's3', 's4'] },
      { type: 'wait', until: DEADLINE },
    ]);
  });

  it('aggregates as soon as every selected site answered, in site order', () => {
    const { state, effects } = run(training(), accepted('s3', 's1', 's4', 's2'), T0);
    expect(state.status).toBe('aggregating');
    expect(effects).toEqual([
      { type: 'persist-status', status: 'aggregating' },
      { type: 'aggregate', siteIds: ['s1', 's2', 's3', 's4'] },
    ]);
  });

  it('keeps waiting with a quorum before the deadline while a site is still pending', () => {
    const { state, effects } = run(training(), accepted('s1', 's2', 's3'), T0 + 1);
    expect(state.status).toBe('training');
    expect(effects).toEqual([
      { type: 'send-tasks', kind: 'train', siteIds: ['s4'] },
      { type: 'wait', until: DEADLINE },
    ]);
  });

  it('closes at the deadline over the updates it has when they reach minSites', () => {
    const { state, effects } = decideRound(run(training(), accepted('s2', 's1', 's3'), T0).state, DEADLINE);
    expect(state.status).toBe('aggregating');
    expect(effects).toContainEqual({ type: 'aggregate', siteIds: ['s1', 's2', 's3'] });
  });

  it('fails at the deadline without a quorum, saying how many it got', () => {
    const { state, effects } = decideRound(run(training(), accepted('s1', 's2'), T0).state, DEADLINE);
    expect(state.status).toBe('failed');
    expect(effects).toEqual([
      { type: 'fail', reason: 'round 3 got 2 update(s) before its deadline; minSites is 3' },
    ]);
  });

  it('stops waiting for a site that declined its task', () => {
    const declined: RoundEvent = { type: 'task-declined', siteId: 's4', kind: 'train' };
    const { state, effects } = run(training(), [...accepted('s1', 's2', 's3'), declined], T0);
    expect(state.status).toBe('aggregating');
    expect(effects).toContainEqual({ type: 'aggregate', siteIds: ['s1', 's2', 's3'] });
  });

  it('fails before its deadline when declines leave too few sites to reach minSites', () => {
    const declines: RoundEvent[] = ['s3', 's4'].map((siteId) => ({
      type: 'task-declined',
      siteId,
      kind: 'train',
    }));
    const { state, effects } = run(training(), [...accepted('s1', 's2'), ...declines], T0);
    expect(state.status).toBe('failed');
    expect(effects).toEqual([
      {
        type: 'fail',
        reason: 'round 3: every selected site answered or declined, with 2 update(s); minSites is 3',
      },
    ]);
  });

  it('waits for a site lost mid-training until the deadline, and re-sends its task when it returns', () => {
    const lost = run(
      training(),
      [...accepted('s1', 's2', 's3'), { type: 'site-offline', siteId: 's4' }],
      T0 + 5,
    );
    expect(lost.state.status).toBe('training');
    expect(lost.effects).toEqual([{ type: 'wait', until: DEADLINE }]);
    const back = stepRound(lost.state, { type: 'site-online', siteId: 's4' }, T0 + 10);
    expect(back.effects).toEqual([
      { type: 'send-tasks', kind: 'train', siteIds: ['s4'] },
      { type: 'wait', until: DEADLINE },
    ]);
    const delivered = stepRound(back.state, { type: 'update-accepted', siteId: 's4' }, T0 + 20);
    expect(delivered.effects).toContainEqual({ type: 'aggregate', siteIds: ['s1', 's2', 's3', 's4'] });
  });

  it('counts a duplicate update once', () => {
    const { state } = run(training(), accepted('s1', 's1', 's1', 's2'), T0);
    expect([...state.updates]).toEqual(['s1', 's2']);
    expect(state.status).toBe('training');
    // Three copies of s1 do not make a quorum of 3.
    expect(decideRound(state, DEADLINE).state.status).toBe('failed');
  });

  it('ignores an update from a site the round did not select', () => {
    const { state } = run(training(), accepted('intruder', 's1'), T0);
    expect([...state.updates]).toEqual(['s1']);
  });

  it('ignores a late update once the round moved on', () => {
    const closed = decideRound(run(training(), accepted('s1', 's2', 's3'), T0).state, DEADLINE);
    expect(closed.state.status).toBe('aggregating');
    const late = stepRound(closed.state, { type: 'update-accepted', siteId: 's4' }, DEADLINE + 1);
    expect([...late.state.updates].sort()).toEqual(['s1', 's2', 's3']);
    expect(late.effects).toEqual([{ type: 'aggregate', siteIds: ['s1', 's2', 's3'] }]);
  });

  it('halts mid-round when the study is paused, and picks the same round up on resume', () => {
    const paused = run(training(), [...accepted('s1'), { type: 'study-paused' }], T0);
    expect(paused.effects).toEqual([{ type: 'halt' }]);
    expect(paused.state.status).toBe('training');
    const resumed = stepRound(paused.state, { type: 'study-resumed' }, T0 + 1);
    expect(resumed.effects).toEqual([
      { type: 'send-tasks', kind: 'train', siteIds: ['s2', 's3', 's4'] },
      { type: 'wait', until: DEADLINE },
    ]);
  });
});

describe('round engine: aggregation', () => {
  const aggregating = () => run(training(), accepted('s1', 's2', 's3', 's4'), T0).state;

  it('re-issues the aggregation when resumed in aggregating (after a coordinator restart)', () => {
    expect(decideRound(aggregating(), T0 + 1).effects).toEqual([
      { type: 'aggregate', siteIds: ['s1', 's2', 's3', 's4'] },
    ]);
  });

  it('fails the round with its reason when the strategy cannot aggregate', () => {
    const { state, effects } = stepRound(
      aggregating(),
      { type: 'aggregation-failed', reason: 'krum needs 2f+3 updates' },
      T0 + 2,
    );
    expect(state.status).toBe('failed');
    expect(effects).toEqual([{ type: 'fail', reason: 'krum needs 2f+3 updates' }]);
  });

  it('moves to evaluating with its own deadline once aggregated', () => {
    const { state, effects } = stepRound(
      aggregating(),
      { type: 'aggregated', evaluationDeadlineMs: 120_000 },
      T0 + 2,
    );
    expect(state.status).toBe('evaluating');
    expect(state.evaluationDeadline).toBe(T0 + 2 + 120_000);
    expect(effects).toEqual([
      { type: 'send-tasks', kind: 'evaluate', siteIds: ['s1', 's2', 's3', 's4'] },
      { type: 'wait', until: T0 + 2 + 120_000 },
    ]);
  });
});

describe('round engine: evaluation', () => {
  const EVAL_DEADLINE = T0 + 100_000;
  const evaluating = (overrides: Partial<RoundState> = {}) =>
    training({
      status: 'evaluating',
      updates: new Set(['s1', 's2', 's3', 's4']),
      evaluationDeadline: EVAL_DEADLINE,
      reconnectGraceUntil: T0 + RECONNECT_GRACE_MS,
      extraEvaluators: new Set(['s5']),
      online: new Set(['s1', 's2', 's3', 's4', 's5']),
      ...overrides,
    });
  const reports = (...ids: string[]): RoundEvent[] =>
    ids.map((siteId) => ({ type: 'metrics-reported', siteId }));

  it("asks the selected sites and the study's other online sites to score the model", () => {
    expect(decideRound(evaluating(), T0).effects).toEqual([
      { type: 'send-tasks', kind: 'evaluate', siteIds: ['s1', 's2', 's3', 's4', 's5'] },
      { type: 'wait', until: EVAL_DEADLINE },
    ]);
  });

  it('completes once every evaluator reported or declined', () => {
    const declined: RoundEvent = { type: 'task-declined', siteId: 's5', kind: 'evaluate' };
    const { state, effects } = run(evaluating(), [...reports('s1', 's2', 's3', 's4'), declined], T0 + 1);
    expect(state.status).toBe('completed');
    expect(effects).toEqual([{ type: 'complete' }]);
  });

  it('does not wait for an offline site past the reconnect grace', () => {
    const offline: RoundEvent = { type: 'site-offline', siteId: 's4' };
    const within = run(evaluating(), [...reports('s1', 's2', 's3', 's5'), offline], T0 + 1_000);
    expect(within.state.status).toBe('evaluating');
    expect(within.effects).toEqual([{ type: 'wait', until: T0 + RECONNECT_GRACE_MS }]);
    const after = decideRound(within.state, T0 + RECONNECT_GRACE_MS);
    expect(after.state.status).toBe('completed');
  });

  it('counts an offline site that returns before the evaluation deadline', () => {
    const offline: RoundEvent = { type: 'site-offline', siteId: 's4' };
    const within = run(evaluating(), [...reports('s1', 's2'), offline], T0 + 1_000);
    // Others still pending online: the offline one is not the reason to wait, the online ones are.
    expect(within.effects).toEqual([
      { type: 'send-tasks', kind: 'evaluate', siteIds: ['s3', 's5'] },
      { type: 'wait', until: EVAL_DEADLINE },
    ]);
    const back = run(within.state, [{ type: 'site-online', siteId: 's4' }], T0 + 50_000);
    expect(back.effects[0]).toEqual({ type: 'send-tasks', kind: 'evaluate', siteIds: ['s3', 's4', 's5'] });
    const done = run(back.state, reports('s3', 's4', 's5'), T0 + 60_000);
    expect(done.state.status).toBe('completed');
    expect([...done.state.reported].sort()).toEqual(['s1', 's2', 's3', 's4', 's5']);
  });

  it('completes at its deadline whatever is still pending', () => {
    const { state } = run(evaluating(), reports('s1'), EVAL_DEADLINE);
    expect(state.status).toBe('completed');
  });

  it('ignores metrics outside evaluation', () => {
    const { state } = run(training(), reports('s1'), T0);
    expect(state.reported.size).toBe(0);
  });
});

describe('round engine: admission', () => {
  const site = { siteId: 's2', name: 'hospital-b' };

  it('accepts an update only while training, from a selected site, once', () => {
    expect(admitUpdate({ index: 2, status: 'training', selected: ['s1', 's2'] }, site, false)).toBeNull();
    expect(admitUpdate({ index: 2, status: 'aggregating', selected: ['s1', 's2'] }, site, false)).toEqual({
      code: 'ROUND_CLOSED',
      message: 'Round 2 is aggregating; it no longer accepts updates.',
    });
    expect(admitUpdate({ index: 2, status: 'training', selected: ['s1'] }, site, false)?.code).toBe(
      'SITE_NOT_SELECTED',
    );
    expect(admitUpdate({ index: 2, status: 'training', selected: ['s1', 's2'] }, site, true)).toEqual({
      code: 'DUPLICATE_UPDATE',
      message: 'Site hospital-b already sent its update for round 2.',
    });
  });

  it('takes validation metrics only while evaluating, once per site', () => {
    expect(admitMetrics({ index: 4, status: 'evaluating' }, site, 'val', false)).toBeNull();
    expect(admitMetrics({ index: 4, status: 'completed' }, site, 'val', false)?.code).toBe('ROUND_CLOSED');
    expect(admitMetrics({ index: 4, status: 'evaluating' }, site, 'val', true)?.code).toBe(
      'DUPLICATE_METRICS',
    );
  });
});

describe('round engine: failure policy', () => {
  it('pauses at the first failure by default', () => {
    expect(afterRoundFailure(0, 1)).toEqual({
      action: 'pause',
      note: 'the study pauses at a failed round (roundRetries is 0)',
    });
  });

  it('retries up to roundRetries failures in a row, then pauses', () => {
    expect(afterRoundFailure(2, 1)).toEqual({ action: 'retry' });
    expect(afterRoundFailure(2, 2)).toEqual({ action: 'retry' });
    expect(afterRoundFailure(2, 3)).toEqual({
      action: 'pause',
      note: '3 rounds failed in a row; roundRetries is 2',
    });
  });
});
