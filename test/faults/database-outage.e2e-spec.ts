import { startChildFederation, type ChildFederation } from '../support/child-federation';
import { faultStudyConfig, startFaultStudy } from '../support/fault-study';
import { waitFor } from '../support/http';
import { POSTGRES_ADMIN_URL } from '../support/postgres';
import { recomputeCheckpoints } from '../support/recompute-checkpoints';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

/**
 * PostgreSQL becomes unreachable for 30 s in the middle of a round (its evaluation): the coordinator reaches it through a TCP
 * relay of this test, which resets every connection and refuses new ones for 30 s (the shared server itself
 * is never touched). The coordinator says it is not ready meanwhile and ready again after; nothing it wrote
 * is corrupt: after a restart the study completes and every committed checkpoint recomputes exactly.
 *
 * Not yet checked here: that the same process carries the study on by itself. Today the study runner's loop
 * dies on the first query that fails (P1017, "study runner failed; the study is paused"), its pause cannot
 * be written either, so the study stays `running` with its round in `training` and nothing drives it until
 * the coordinator restarts (issue 19, reported to the round engine's owner).
 */
const SITES = 2;
const ROUNDS = 3;
const OUTAGE_MS = 30_000;

describe('PostgreSQL unreachable for 30 s', () => {
  let fed: ChildFederation | undefined;
  let proxy: TcpProxy | undefined;

  afterAll(async () => {
    await fed?.close();
    await proxy?.close();
  });

  it('the coordinator is unready while it lasts and survives it; after a restart the study completes with exact checkpoints', async () => {
    const server = new URL(POSTGRES_ADMIN_URL);
    proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
    fed = await startChildFederation({
      prefix: 'fedseg-pgdown',
      first: { databaseVia: { host: '127.0.0.1', port: proxy.port } },
    });
    const study = await startFaultStudy(fed, {
      sites: SITES,
      config: faultStudyConfig({ rounds: ROUNDS, minSites: SITES }),
    });
    // While round 2 evaluates: an update sent during the outage would be refused as INTERNAL and dropped by
    // its agent for good (reported), which fails the round for want of updates, whatever the database does.
    const evaluating = { studyId: study.studyId, index: 2, aggregatedAt: { not: null } };
    await waitFor(
      'round 2 to be aggregated',
      async () => ((await fed!.prisma.round.count({ where: evaluating })) > 0 ? true : undefined),
      120_000,
      50,
    );
    const pid = fed.coordinator!.pid;
    proxy.cut();
    await waitFor(
      'the coordinator to say it is not ready',
      async () => ((await fetch(`${fed!.url}/ready`).catch(() => null))?.status === 503 ? true : undefined),
      20_000,
      200,
    );
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    proxy.restore();
    await waitFor(
      'the coordinator to be ready again',
      async () => ((await fetch(`${fed!.url}/ready`).catch(() => null))?.status === 200 ? true : undefined),
      30_000,
      200,
    );
    // The process survived the outage.
    expect(fed.coordinator?.pid).toBe(pid);

    await fed.restart({ databaseVia: { host: '127.0.0.1', port: proxy.port } });
    await study.waitForStudy('the study to complete', (s) => s.status === 'completed', 180_000);
    const audit = await recomputeCheckpoints(fed.prisma, fed.homeDir, study.studyId, study.acks());
    expect(audit).toMatchObject({ rounds: ROUNDS, aggregated: SITES * ROUNDS });
    expect(audit.mismatches).toEqual([]);
    expect(audit.lost).toEqual([]);
    expect(audit.duplicates).toEqual([]);
    expect(audit.partial).toEqual([]);
  }, 300_000);
});
