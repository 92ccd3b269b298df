import { RoundEvent } from './round-events';
import { ErrorReply } from './error-reply';
import { StudyView } from './study-replies';

const studyId = '7f3c2a10-0000-4000-8000-000000000001';

describe('RoundEvent', () => {
  it('accepts every event the coordinator announces, and keeps them as they are', () => {
    const events = [
      { type: 'round-started', studyId, round: 1, siteIds: ['a'], deadlineAt: '2026-12-02T04:00:00.000Z' },
      { type: 'update-received', studyId, round: 1, siteId: 'a', samples: 4, trainLoss: 0.5 },
      { type: 'task-progress', studyId, round: 1, siteId: 'a', epoch: 0, epochs: 2, step: 1, steps: 3 },
      { type: 'round-aggregated', studyId, round: 1, sites: 1, trainLoss: null },
      { type: 'metrics-received', studyId, round: 1, siteId: 'a', metrics: { dice: 0.8, hd95: 3.2 } },
      { type: 'round-completed', studyId, round: 1, sites: 1, trainLoss: 0.5, valDice: 0.8 },
      { type: 'round-failed', studyId, round: 2, reason: 'deadline passed with 0 of 1 sites' },
      { type: 'study-status', studyId, status: 'paused', reason: null },
    ];
    for (const e of events) expect(RoundEvent.parse(e)).toEqual(e);
  });

  it('refuses an unknown type and a missing field, naming it', () => {
    expect(RoundEvent.safeParse({ type: 'round-exploded', studyId, round: 1 }).success).toBe(false);
    const missing = RoundEvent.safeParse({
      type: 'round-completed',
      studyId,
      round: 1,
      sites: 1,
      trainLoss: 0.5,
    });
    expect(missing.success).toBe(false);
    expect(missing.error?.issues.map((i) => i.path.join('.'))).toEqual(['valDice']);
  });
});

describe('reply schemas', () => {
  it('read a study and an error body as they travel', () => {
    const study = {
      id: studyId,
      name: 'liver',
      status: 'running',
      config: { name: 'liver', rounds: 3 },
      statusReason: null,
      roundsDone: 1,
      epsilonSpent: null,
      createdAt: '2026-12-02T04:00:00.000Z',
      updatedAt: '2026-12-02T04:01:00.000Z',
    };
    expect(StudyView.parse(study)).toEqual(study);
    expect(StudyView.safeParse({ ...study, status: 'sleeping' }).success).toBe(false);
    expect(
      ErrorReply.parse({ error: { code: 'STUDY_NOT_FOUND', message: 'No study 7f3c.' } }).error.code,
    ).toBe('STUDY_NOT_FOUND');
  });
});
