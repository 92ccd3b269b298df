import { decidePhase, maxSitesFor, participantsOf, type PhaseInput } from './secure-aggregation-phase';

const sites = ['a', 'b', 'c', 'd', 'e'];
function input(
  over: Partial<PhaseInput> & Pick<PhaseInput, 'status'>,
  p: Partial<Parameters<typeof participantsOf>[0]> = {},
): PhaseInput {
  return {
    round: 4,
    participants: participantsOf({
      selected: sites,
      advertised: [],
      maskers: [],
      masked: [],
      unmasked: [],
      ...p,
    }),
    declined: new Set(),
    threshold: 3,
    minSites: 3,
    now: 1_000,
    deadline: 2_000,
    ...over,
  };
}

describe('secure-aggregation phases', () => {
  it('waits for the sites that have not answered, and moves on once all have', () => {
    expect(decidePhase(input({ status: 'advertising' }, { advertised: ['a', 'c'] }))).toEqual({
      kind: 'wait',
      pending: ['b', 'd', 'e'],
    });
    expect(decidePhase(input({ status: 'advertising' }, { advertised: sites }))).toEqual({
      kind: 'advance',
      to: 'sharing',
    });
    expect(decidePhase(input({ status: 'sharing' }, { advertised: sites, maskers: sites }))).toEqual({
      kind: 'advance',
      to: 'training',
    });
    expect(
      decidePhase(input({ status: 'training' }, { advertised: sites, maskers: sites, masked: sites })),
    ).toEqual({ kind: 'advance', to: 'unmasking' });
    expect(
      decidePhase(
        input({ status: 'unmasking' }, { advertised: sites, maskers: sites, masked: sites, unmasked: sites }),
      ),
    ).toEqual({ kind: 'advance', to: 'aggregating' });
  });

  it('at the deadline, moves on with enough answers and fails with too few', () => {
    const late = { now: 2_000 };
    expect(decidePhase(input({ status: 'advertising', ...late }, { advertised: ['a', 'b', 'c'] }))).toEqual({
      kind: 'advance',
      to: 'sharing',
    });
    const failed = decidePhase(input({ status: 'advertising', ...late }, { advertised: ['a', 'b'] }));
    expect(failed).toMatchObject({ kind: 'fail' });
    expect(failed.kind === 'fail' && failed.reason).toMatch(
      /2 of 5 site\(s\) advertised keys and the phase deadline passed; 3 are needed/,
    );
  });

  it('does not wait for declined sites, and fails at once when the rest cannot reach the need', () => {
    const p = { advertised: sites, maskers: sites, masked: ['a', 'b'] };
    expect(decidePhase(input({ status: 'training', declined: new Set(['c', 'd']) }, p))).toEqual({
      kind: 'wait',
      pending: ['e'],
    });
    const failed = decidePhase(input({ status: 'training', declined: new Set(['c', 'd', 'e']) }, p));
    expect(failed).toMatchObject({ kind: 'fail' });
    expect(failed.kind === 'fail' && failed.reason).toMatch(/declined or dropped/);
  });

  it('needs max(threshold, minSites) maskers but only the threshold of unmask replies', () => {
    const p = { advertised: sites, maskers: sites, masked: ['a', 'b', 'c', 'd'] };
    expect(decidePhase(input({ status: 'training', now: 5_000, minSites: 5 }, p))).toMatchObject({
      kind: 'fail',
    });
    expect(decidePhase(input({ status: 'training', now: 5_000, minSites: 4 }, p))).toEqual({
      kind: 'advance',
      to: 'unmasking',
    });
    expect(
      decidePhase(
        input({ status: 'unmasking', now: 5_000, minSites: 5 }, { ...p, unmasked: ['a', 'b', 'c'] }),
      ),
    ).toEqual({ kind: 'advance', to: 'aggregating' });
    expect(
      decidePhase(input({ status: 'unmasking', now: 5_000 }, { ...p, unmasked: ['a', 'b'] })),
    ).toMatchObject({ kind: 'fail' });
  });

  it('n = 10, t = 6: the round survives 4 dropouts after masking keys were shared, not 5', () => {
    const ten = 'abcdefghij'.split('');
    const base = { selected: ten, advertised: ten, maskers: ten };
    const at = (masked: string[]) =>
      decidePhase({
        status: 'training',
        round: 1,
        participants: participantsOf({ ...base, masked, unmasked: [] }),
        declined: new Set(),
        threshold: 6,
        minSites: 6,
        now: 9,
        deadline: 9,
      });
    expect(at(ten.slice(4))).toEqual({ kind: 'advance', to: 'unmasking' });
    expect(at(ten.slice(5))).toMatchObject({ kind: 'fail' });
  });

  it('narrows each set to the one before: a late or foreign message cannot widen it', () => {
    const p = participantsOf({
      selected: ['a', 'b', 'c'],
      advertised: ['a', 'b', 'z'],
      maskers: ['a', 'b', 'c'],
      masked: ['b', 'a', 'a'],
      unmasked: ['c', 'b'],
    });
    expect(p).toEqual({
      selected: ['a', 'b', 'c'],
      advertised: ['a', 'b'],
      maskers: ['a', 'b'],
      masked: ['a', 'b'],
      unmasked: ['b'],
    });
  });

  it('selects at most 2t - 1 sites', () => {
    expect(maxSitesFor(3)).toBe(5);
    expect(maxSitesFor(6)).toBe(11);
  });
});
