import { startChildFederation, type ChildFederation } from '../support/child-federation';
import { faultStudyConfig, startFaultStudy } from '../support/fault-study';
import { waitFor } from '../support/http';
import { POSTGRES_ADMIN_URL } from '../support/postgres';
import { recomputeCheckpoints } from '../support/recompute-checkpoints';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

/**
 * PostgreSQL becomes unreachable for 30 s in the middle of a round, once while the sites train and send their
 * updates and once while they evaluate: the coordinator reaches it through a TCP relay of this test, which
 * resets every connection and refuses new ones for 30 s (the shared server itself is never touched). The
 * coordinator says it is not ready meanwhile; the same process carries on after (its study runner retries),
 * the sites' updates and reports refused as UNAVAILABLE are sent again (the same sealed update: an agent
 * keeps its key until a verdict), and every committed checkpoint recomputes exactly.
 */
const SITES = 2;
const ROUNDS = 3;
const OUTAGE_MS = 30_000;

describe('PostgreSQL unreachable for 30 s', () => {
  let fed: ChildFederation | undefined;
  let proxy: TcpProxy | undefined;

  afterEach(async () => {
    await fed?.close();
    await proxy?.close();
    fed = undefined;
    proxy = undefined;
  });

  const phases: Array<{ phase: string; reached: (studyId: string) => object }> = [
    {
      phase: 'while the sites train and send their updates',
      reached: (studyId) => ({ studyId, index: 2 }),
    },
    {
      phase: 'while the sites evaluate',
      reached: (studyId) => ({ studyId, index: 2, aggregatedAt: { not: null } }),
    },
  ];

  it.each(phases)(
    '$phase: the coordinator is unready while it lasts, then the same process completes the study with exact checkpoints',
    async ({ phase, reached }) => {
      const server = new URL(POSTGRES_ADMIN_URL);
      proxy = await startTcpProxy({ host: server.hostname, port: Number(server.port || 5432) });
      fed = await startChildFederation({
        prefix: 'fedseg-pgdown',
        first: { databaseVia: { host: '127.0.0.1', port: proxy.port } },
      });
      const study = await startFaultStudy(fed, {
        sites: SITES,
        // A refused update is sent again with exponential backoff (2, 4, 8, 16, 32 s): after a 30 s outage the
        // next try may come half a minute later, so the round's deadline leaves room for it.
        config: faultStudyConfig({ rounds: ROUNDS, minSites: SITES, roundDeadlineMs: 150_000 }),
      });
      await waitFor(
        `round 2, ${phase}`,
        async () =>
          (await fed!.prisma.round.count({ where: reached(study.studyId) })) > 0 ? true : undefined,
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
      await study.waitForStudy('the study to complete', (s) => s.status === 'completed', 180_000);
      // The same process throughout: it rode out the outage rather than dying and being restarted.
      expect(fed.coordinator?.pid).toBe(pid);
      const audit = await recomputeCheckpoints(fed.prisma, fed.homeDir, study.studyId, study.acks());
      expect(audit).toMatchObject({ rounds: ROUNDS, aggregated: SITES * ROUNDS });
      expect(audit.mismatches).toEqual([]);
      expect(audit.lost).toEqual([]);
      expect(audit.duplicates).toEqual([]);
      expect(audit.partial).toEqual([]);
    },
    300_000,
  );
});
