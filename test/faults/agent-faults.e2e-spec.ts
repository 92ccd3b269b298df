import { startChildFederation, type ChildFederation } from '../support/child-federation';
import { faultStudyConfig, startFaultStudy, type FaultStudy } from '../support/fault-study';
import { waitFor } from '../support/http';
import { recomputeCheckpoints } from '../support/recompute-checkpoints';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

/**
 * Sites fail under a running round: an agent process SIGKILLed while it trains, SIGKILLed part-way through
 * its upload, and an agent whose connection is reset part-way through its upload and refused for a while.
 * The study waits for the site (minSites is every site), the site comes back, the study completes, and every
 * committed checkpoint recomputes exactly from the updates the database says it holds.
 */
const SITES = 2;
const ROUNDS = 2;
// An update of two 512 KiB chunks (about 190k weights), sent at 100 KB/s through the proxy: an upload that
// lasts seconds, so it can be interrupted in the middle.
const TWO_CHUNKS = { baseFilters: 12, depth: 3 };
const SLOW_UPLINK = 100_000;

/**
 * `unheard`: updates the coordinator may have stored without the site hearing the ack. An agent killed
 * part-way through an upload may already have written all its bytes into the kernel's socket buffers, and TCP
 * delivers them after the process dies: the update is then rightly stored and counted once, though no
 * process is left to log its ack.
 */
async function expectExactCheckpoints(fed: ChildFederation, study: FaultStudy, unheard = 0): Promise<void> {
  const final = await study.waitForStudy('the study to complete', (s) => s.status === 'completed', 150_000);
  expect(final.roundsDone).toBe(ROUNDS);
  const acks = study.acks();
  expect(acks.length).toBeGreaterThanOrEqual(SITES * ROUNDS - unheard);
  const audit = await recomputeCheckpoints(fed.prisma, fed.homeDir, study.studyId, acks);
  expect(audit).toMatchObject({ rounds: ROUNDS, aggregated: SITES * ROUNDS });
  expect(audit.mismatches).toEqual([]);
  expect(audit.lost).toEqual([]);
  expect(audit.duplicates).toEqual([]);
  expect(audit.partial).toEqual([]);
}

/** The site's round-1 update has no row yet: it is still on its way. */
async function noUpdateYet(fed: ChildFederation, studyId: string): Promise<number> {
  return fed.prisma.siteUpdate.count({ where: { round: { studyId, index: 1 } } });
}

describe('sites failing during a round', () => {
  let fed: ChildFederation | undefined;
  let proxy: TcpProxy | undefined;

  /**
   * A federation whose first site uploads through a throttled relay, returned once a third of its round-1
   * update has passed: the moment each upload fault strikes.
   */
  async function uploadUnderway(
    federation: string,
    sitePrefix: string,
  ): Promise<{ federation: ChildFederation; relay: TcpProxy; study: FaultStudy; victim: string }> {
    const started = await startChildFederation({ prefix: `fedseg-${federation}` });
    fed = started;
    const relay = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(started.url).port) });
    proxy = relay;
    relay.throttle(SLOW_UPLINK);
    const via = `http://127.0.0.1:${relay.port}`;
    const config = faultStudyConfig({ rounds: ROUNDS, minSites: SITES, model: TWO_CHUNKS });
    const victim = `${sitePrefix}-01`;
    const study = await startFaultStudy(started, {
      sites: SITES,
      config,
      prefix: sitePrefix,
      agentArgs: (site) => (site === victim ? ['--coordinator', via] : []),
    });
    await study.waitForLog(victim, /round 1: trained/);
    const start = relay.bytesUp;
    await waitFor(
      'a third of the upload',
      async () => (relay.bytesUp - start > 300_000 ? true : undefined),
      60_000,
      20,
    );
    return { federation: started, relay, study, victim };
  }

  afterEach(async () => {
    await fed?.close();
    await proxy?.close();
    fed = undefined;
    proxy = undefined;
  });

  it('an agent killed while it trains: the round waits, the restarted agent trains again, nothing is lost', async () => {
    fed = await startChildFederation({ prefix: 'fedseg-agentkill' });
    // 20 local epochs: training lasts long enough to be killed in the middle of it.
    const config = faultStudyConfig({ rounds: ROUNDS, minSites: SITES, training: { epochs: 20 } });
    const study = await startFaultStudy(fed, { sites: SITES, config });
    const victim = study.sites[0]!;
    await study.waitForLog(victim, /round 1: epoch 1\/20/);
    await study.killAgent(victim);
    const before = await study.waitForLog(victim, /./);
    expect(before).not.toMatch(/round 1: trained/);

    study.spawn(victim);
    await expectExactCheckpoints(fed, study);
  }, 240_000);

  it('an agent killed part-way through its upload: the partial transfer counts for nothing, the resent update once', async () => {
    const { federation, relay, study, victim } = await uploadUnderway('uploadkill', 'upload');
    await study.killAgent(victim);
    expect(await noUpdateYet(federation, study.studyId)).toBeLessThan(SITES);
    expect(federation.coordinatorLog()).not.toMatch(/fault point/);

    relay.throttle(null);
    study.spawn(victim);
    await expectExactCheckpoints(federation, study, 1);
  }, 240_000);

  it('a connection reset part-way through an upload and refused for 3 s: the agent reconnects and the update counts once', async () => {
    const { federation, relay, study, victim } = await uploadUnderway('cut', 'cut');
    relay.cut();
    expect(await noUpdateYet(federation, study.studyId)).toBeLessThan(SITES);
    await new Promise((r) => setTimeout(r, 3_000));
    relay.throttle(null);
    relay.restore();

    await expectExactCheckpoints(federation, study);
    const log = await study.waitForLog(victim, /connection lost/);
    expect(log).toMatch(/update for study \w+ round 1(?: accepted|: the coordinator already had it)/);
  }, 240_000);
});
