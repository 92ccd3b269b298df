import { startChildFederation, type ChildFederation } from '../support/child-federation';
import { createFaultStudy, faultStudyConfig, startFaultSites, type FaultSites } from '../support/fault-study';
import { recomputeCheckpoints } from '../support/recompute-checkpoints';

/**
 * The coordinator SIGKILLs itself (FEDSEG_FAULT_KILL_AT) at each of its fault points, in the first round of a
 * fresh study, and is started again on the same database, home and port. The agents (real processes, the
 * same ones throughout) reconnect on their own; the study completes, and every committed checkpoint is
 * exactly the previous one plus the updates the database says went into it: none lost, none counted twice.
 */
const SITES = 2;
const ROUNDS = 2;

// mid-upload needs an update of at least two 512 KiB chunks: a 3-level U-Net with 12 base filters (about 190k
// weights) instead of the tiny one. Every row has both fields: jest takes a test function with more
// parameters than its row for one wanting done().
const TINY = {};
const cases: Array<[point: string, model: { baseFilters?: number; depth?: number }]> = [
  ['dispatch', TINY],
  ['mid-upload', { baseFilters: 12, depth: 3 }],
  ['before-record', TINY],
  ['before-record@2', TINY],
  ['mid-aggregation', TINY],
  ['mid-evaluation', TINY],
];

describe('the coordinator killed at a fault point and restarted', () => {
  let fed: ChildFederation;
  let sites: FaultSites;

  beforeAll(async () => {
    fed = await startChildFederation({ prefix: 'fedseg-kill' });
    sites = await startFaultSites(fed, { sites: SITES, prefix: 'kill' });
    for (const site of sites.sites) sites.spawn(site);
  });
  afterAll(async () => {
    await fed?.close();
  });

  it.each(cases)(
    'at %s: the study completes and every checkpoint recomputes exactly',
    async (point, model) => {
      await fed.restart({ faultKillAt: point, pauseMs: 0 });
      const config = faultStudyConfig({ rounds: ROUNDS, minSites: SITES, model });
      const study = await createFaultStudy(fed, sites, config);

      // The fault point fires by itself; nothing else stops this coordinator.
      expect(await fed.exited()).toBe('SIGKILL');
      // This start's part of the log: the killed process said where it died.
      expect(fed.coordinatorLog().split('--- start ').at(-1)).toContain(
        `fault point ${point.split('@')[0]}@`,
      );
      expect(await fed.prisma.round.count({ where: { studyId: study.studyId } })).toBeGreaterThan(0);

      await fed.restart();
      const final = await study.waitForStudy(
        'the study to complete',
        (s) => s.status === 'completed',
        150_000,
      );
      expect(final.roundsDone).toBe(ROUNDS);

      const acks = study.acks();
      expect(acks.length).toBeGreaterThanOrEqual(SITES * ROUNDS);
      const audit = await recomputeCheckpoints(fed.prisma, fed.homeDir, study.studyId, acks);
      expect(audit).toMatchObject({ rounds: ROUNDS, aggregated: SITES * ROUNDS });
      expect(audit.mismatches).toEqual([]);
      expect(audit.lost).toEqual([]);
      expect(audit.duplicates).toEqual([]);
      expect(audit.partial).toEqual([]);
    },
    240_000,
  );
});
