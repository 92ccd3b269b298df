import { runSoak } from '../support/soak';

/**
 * `npm run soak` at CI size: 6 rounds, two coordinator kills with restarts and an agent killed in each of the
 * other rounds; every round recomputes exactly from the database. RSS growth is a measurement of the long
 * soak (`npm run soak -- --rounds 50`), not asserted here.
 */
describe('soak at CI size', () => {
  it('6 rounds with agent and coordinator kills: every round recomputes exactly, nothing lost or doubled', async () => {
    const s = await runSoak({ rounds: 6, seed: 7, sites: 2, agentKillChance: 1 });
    expect(s.details).toEqual([]);
    expect(s).toMatchObject({ rounds: 6, lost: 0, duplicates: 0, mismatches: 0, coordinatorRestarts: 2 });
    expect(s.agentKills).toBe(4);
  }, 420_000);
});
