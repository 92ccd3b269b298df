import fs from 'node:fs';
import path from 'node:path';
import { startChildFederation, type ChildFederation } from '../support/child-federation';
import { createFaultStudy, faultStudyConfig, startFaultSites } from '../support/fault-study';
import { waitFor } from '../support/http';
import { recomputeCheckpoints } from '../support/recompute-checkpoints';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

/**
 * How a round closes when not every site makes it: an update still arriving while the round closes is either
 * in the checkpoint or refused, never acknowledged and dropped; with minSites 7 of 10, three dead sites still
 * let the round close at its deadline over the seven, four make it FAILED with the model unchanged and nothing
 * of it stored.
 */
describe('closing a round', () => {
  let fed: ChildFederation | undefined;
  let proxy: TcpProxy | undefined;

  afterEach(async () => {
    await fed?.close();
    await proxy?.close();
    fed = undefined;
    proxy = undefined;
  });

  it('an update still uploading when the round closes is refused, and the checkpoint holds exactly the others', async () => {
    fed = await startChildFederation({ prefix: 'fedseg-race' });
    proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(fed.url).port) });
    // The late site's update (two 512 KiB chunks) crawls at 60 KB/s: its upload opens while the round still
    // trains (the shortest deadline, 1 s, is long past; the round closes with the first update, minSites 1)
    // and its last chunk lands after the close.
    proxy.throttle(60_000);
    const late = 'race-02';
    const config = faultStudyConfig({
      rounds: 2,
      minSites: 1,
      roundDeadlineMs: 1_000,
      model: { baseFilters: 12, depth: 3 },
    });
    const sites = await startFaultSites(fed, {
      sites: 2,
      prefix: 'race',
      agentArgs: (site) => (site === late ? ['--coordinator', `http://127.0.0.1:${proxy!.port}`] : []),
    });
    // Both online before the study starts, so every round selects both.
    for (const site of sites.sites) sites.spawn(site);
    for (const site of sites.sites)
      await sites.waitForLog(site, /connected to .* \(authenticated\)/, 120_000);
    const study = await createFaultStudy(fed, sites, config);
    await study.waitForStudy('the study to complete', (s) => s.status === 'completed', 150_000);

    const rounds = await fed.prisma.round.findMany({
      where: { studyId: study.studyId },
      include: { updates: { include: { site: true } } },
      orderBy: { index: 'asc' },
    });
    expect(rounds.map((r) => r.selectedSiteIds.length)).toEqual([2, 2]);
    for (const round of rounds) {
      // The late site hears a verdict on each of its updates: in the checkpoint, or refused with the reason.
      const verdict = new RegExp(
        `update for study \\w+ round ${round.index} (accepted|refused: .*\\((\\w+)\\))`,
      );
      const lateLog = await study.waitForLog(late, verdict, 60_000);
      const [, outcome, code] = verdict.exec(lateLog)!;
      const lateRow = round.updates.find((u) => u.site.name === late);
      if (outcome === 'accepted') expect(lateRow?.status).toBe('aggregated');
      else {
        expect(code).toBe('ROUND_CLOSED');
        expect(lateRow).toBeUndefined();
      }
    }
    const lateLog = fs.readFileSync(fed.logOf(late), 'utf8');
    // The race was forced: at least once the late update's transfer outlived its round.
    expect(lateLog).toMatch(/refused: .*\(ROUND_CLOSED\)/);
    const audit = await recomputeCheckpoints(fed.prisma, fed.homeDir, study.studyId, study.acks());
    expect(audit.rounds).toBe(2);
    expect(audit.mismatches).toEqual([]);
    expect(audit.lost).toEqual([]);
    expect(audit.duplicates).toEqual([]);
  }, 240_000);

  it('10 sites, minSites 7: 3 dead sites, the round closes at its deadline over 7; 4 dead, it fails and nothing of it is stored', async () => {
    fed = await startChildFederation({ prefix: 'fedseg-quorum' });
    const config = faultStudyConfig({
      rounds: 3,
      minSites: 7,
      roundDeadlineMs: 25_000,
      evaluationDeadlineMs: 45_000,
      // Five local epochs: a site is still training when the test kills it.
      training: { epochs: 5 },
    });
    // Every agent online before the study starts, so round 1 selects all ten.
    const sites = await startFaultSites(fed, { sites: 10, prefix: 'quorum' });
    for (const site of sites.sites) sites.spawn(site);
    for (const site of sites.sites)
      await sites.waitForLog(site, /connected to .* \(authenticated\)/, 180_000);
    const study = await createFaultStudy(fed, sites, config);
    const studyId = study.studyId;
    const killAt = async (round: number, victims: string[]) => {
      await Promise.all(
        victims.map(async (site) => {
          await study.waitForLog(site, new RegExp(`round ${round}: epoch 1/5`), 180_000);
          await study.killAgent(site);
        }),
      );
      for (const site of victims)
        expect(fs.readFileSync(fed!.logOf(site), 'utf8')).not.toMatch(new RegExp(`round ${round}: trained`));
    };

    await killAt(1, study.sites.slice(0, 3));
    const round1 = await waitFor(
      'round 1 to be aggregated',
      async () => {
        const r = await fed!.prisma.round.findFirst({
          where: { studyId, index: 1 },
          include: { updates: true },
        });
        return r && r.aggregatedAt ? r : undefined;
      },
      120_000,
    );
    expect(round1.selectedSiteIds).toHaveLength(10);
    expect(round1.updates.filter((u) => u.status === 'aggregated')).toHaveLength(7);
    // Closed by the deadline, not because everyone answered.
    expect(round1.aggregatedAt!.getTime()).toBeGreaterThanOrEqual(round1.deadlineAt.getTime());

    // The three come back while round 1 evaluates, so round 2 selects all ten; then four of them die.
    for (const site of study.sites.slice(0, 3)) study.spawn(site);
    await waitFor(
      'round 2 to select all ten sites',
      async () => {
        const r = await fed!.prisma.round.findFirst({ where: { studyId, index: 2 } });
        return r ? r : undefined;
      },
      150_000,
    ).then((r) => expect(r.selectedSiteIds).toHaveLength(10));
    await killAt(2, study.sites.slice(3, 7));
    const paused = await study.waitForStudy('the study to pause', (s) => s.status === 'paused', 150_000);
    expect(paused.roundsDone).toBe(1);

    const round2 = await fed.prisma.round.findFirstOrThrow({
      where: { studyId, index: 2 },
      include: { updates: true },
    });
    expect(round2.status).toBe('failed');
    expect(round2.failureReason).toMatch(/minSites|7/);
    expect(round2.updates.filter((u) => u.status === 'aggregated')).toEqual([]);
    expect(await fed.prisma.checkpoint.count({ where: { studyId, roundIndex: 2 } })).toBe(0);
    const checkpointDir = path.join(fed.homeDir, 'blobs', 'checkpoints', studyId);
    expect(fs.readdirSync(checkpointDir).filter((f) => f.includes('round-00002'))).toEqual([]);
    // The model is round 1's, unchanged.
    const latest = await fetch(`${fed.url}/studies/${studyId}/model`, {
      headers: { authorization: `Bearer ${fed.adminToken}` },
    });
    expect(latest.headers.get('x-fedseg-round')).toBe('1');
    expect(Buffer.from(await latest.arrayBuffer())).toEqual(
      fs.readFileSync(path.join(checkpointDir, 'round-00001.fstn')),
    );

    const audit = await recomputeCheckpoints(fed.prisma, fed.homeDir, studyId, study.acks());
    expect(audit).toMatchObject({
      rounds: 1,
      aggregated: 7,
      mismatches: [],
      lost: [],
      duplicates: [],
      partial: [],
    });
  }, 420_000);
});
