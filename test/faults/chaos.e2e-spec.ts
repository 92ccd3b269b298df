import { runChaos } from '../support/chaos';

/**
 * `npm run chaos` at CI size: 10 runs of a 2-site, 2-round study on one federation (the same agents
 * throughout). Each run kills the coordinator or an agent at a random point of a random round, restarts it,
 * and must end bit-identical to the uninterrupted reference run; the seed is fixed so CI repeats the faults.
 */
describe('chaos at CI size', () => {
  it('every interrupted run ends with the reference run final checkpoint, bit for bit', async () => {
    const summary = await runChaos({ runs: 10, seed: 19, sites: 2, rounds: 2 });
    expect(summary.runs.map((r) => r.error ?? 'ok')).toEqual(Array(10).fill('ok'));
    expect(summary.identical).toBe(10);
    expect(summary.runs.every((r) => r.lost === 0 && r.duplicates === 0 && r.mismatches === 0)).toBe(true);
  }, 420_000);
});
