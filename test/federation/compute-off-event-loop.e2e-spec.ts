import fs from 'node:fs';
import path from 'node:path';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import { generateConsortium } from '@fedseg/imaging';
import { AgentEvents, type StudyConfigInput } from '@fedseg/protocol';
import { startFederation, type Federation } from '../support/federation';

/**
 * Issue 18: an agent computes off its socket's event loop, and a result whose acknowledgement was lost is
 * re-sent after the reconnect and counted once. Two real agent processes, one round.
 *
 * - site-1's evaluation is slowed on purpose: FEDSEG_TEST_EVALUATION_DELAY_MS (read only by the agent's compute
 *   thread, apps/site-agent/src/compute/compute-worker.ts) blocks the compute thread for EVAL_DELAY_MS. The
 *   coordinator's heartbeat is shortened here to a ping every PING_INTERVAL_MS with PING_TIMEOUT_MS to answer,
 *   so a blocked socket thread would be dropped ("ping timeout") many times over within the delay.
 * - site-2's first metrics report is stored by the coordinator, but its ack is replaced by closing the
 *   connection (what a network drop right after the write looks like to the agent).
 *
 * The socket.io server is the coordinator's own; this spec reaches it by recording the Server whose `of()`
 * Nest calls for the /agent namespace, and only reads heartbeats and swaps that one ack.
 */
const EVAL_DELAY_MS = 6_000;
const PING_INTERVAL_MS = 300;
const PING_TIMEOUT_MS = 700;

const study: StudyConfigInput = {
  name: 'e2e compute off the event loop',
  model: {
    architecture: 'unet3d',
    inChannels: 1,
    numClasses: 3,
    baseFilters: 2,
    depth: 2,
    normalization: 'instance',
  },
  training: { epochs: 1, batchSize: 2, learningRate: 1e-2, patchSize: [16, 16, 16], seed: 3 },
  rounds: 1,
  minSites: 2,
  roundDeadlineMs: 120_000,
  siteWaitMs: 120_000,
};

const SocketSite = z.object({ state: z.object({ site: z.object({ name: z.string() }) }) });

describe('an agent under slow local compute', () => {
  let fed: Federation;
  const servers = new Set<Server>();
  const heartbeats: Array<{ site: string; at: number }> = [];
  const closes: Array<{ site: string; reason: string; at: number }> = [];
  const reportsAt: Array<{ site: string; at: number }> = [];
  let ackDropped = false;

  beforeAll(async () => {
    const of = Server.prototype.of;
    jest.spyOn(Server.prototype, 'of').mockImplementation(function (this: Server, ...args) {
      servers.add(this);
      return of.apply(this, args);
    });
    fed = await startFederation({ postgres: true, prefix: 'fedseg-e2e-offloop' });
    for (const server of servers) {
      server.engine.opts.pingInterval = PING_INTERVAL_MS;
      server.engine.opts.pingTimeout = PING_TIMEOUT_MS;
      server.of('/agent').on('connection', (socket: Socket) => {
        const site = SocketSite.parse(socket.data).state.site.name;
        socket.conn.on('heartbeat', () => heartbeats.push({ site, at: Date.now() }));
        socket.conn.on('close', (reason: string) => closes.push({ site, reason, at: Date.now() }));
        socket.use((packet, next) => {
          if (packet[0] === AgentEvents.metricsReport) {
            reportsAt.push({ site, at: Date.now() });
            const last = packet.length - 1;
            if (site === 'site-2' && !ackDropped && typeof packet[last] === 'function') {
              ackDropped = true;
              // The handler still stores the report; the agent never hears back and its connection drops.
              packet[last] = () => socket.conn.close();
            }
          }
          next();
        });
      });
    }
  });

  afterAll(async () => {
    await fed?.close();
    jest.restoreAllMocks();
  });

  it('keeps the heartbeat through a slow evaluation, re-sends an unacknowledged report and counts it once', async () => {
    expect(servers.size).toBeGreaterThan(0);
    const { siteDirs } = await generateConsortium({
      outDir: path.join(fed.work, 'sites'),
      sites: 2,
      casesPerSite: 4,
      shape: [16, 16, 16],
      seed: 21,
    });
    const names = ['site-1', 'site-2'];
    await fed.enroll(names);
    const studyId = await fed.createStudy(study);
    await fed.approve(studyId, names);
    await fed.startStudy(studyId);
    // `fedseg-agent approve` connected and left above; only the running agents' connections count from here.
    const since = Date.now();
    fed.spawn('site-1', siteDirs[0]!, ['--backend', 'cpu'], {
      FEDSEG_TEST_EVALUATION_DELAY_MS: String(EVAL_DELAY_MS),
    });
    fed.spawn('site-2', siteDirs[1]!, ['--backend', 'cpu']);

    const final = await fed.waitForCompletion(studyId, 150_000);
    expect(final.status).toBe('completed');

    // site-1: its connection stayed up, and heartbeats kept coming while its compute thread was blocked.
    const slowReport = reportsAt.find((r) => r.site === 'site-1');
    expect(slowReport).toBeDefined();
    const during = heartbeats.filter(
      (h) => h.site === 'site-1' && h.at >= slowReport!.at - EVAL_DELAY_MS && h.at <= slowReport!.at,
    );
    console.log(
      `site-1: ${during.length} heartbeats during its ${EVAL_DELAY_MS} ms blocked evaluation (ping every ${PING_INTERVAL_MS} ms)`,
    );
    // One pong per ping interval; a third of them is plenty to rule out a stalled event loop.
    expect(during.length).toBeGreaterThanOrEqual(Math.floor(EVAL_DELAY_MS / PING_INTERVAL_MS / 3));
    const closed = closes.filter((c) => c.at >= since);
    expect(closed.filter((c) => c.site === 'site-1')).toEqual([]);
    expect(closed.some((c) => c.reason === 'ping timeout')).toBe(false);

    // site-2: the report was sent again after its reconnect, and stored once.
    expect(ackDropped).toBe(true);
    expect(closed.filter((c) => c.site === 'site-2').length).toBeGreaterThanOrEqual(1);
    expect(reportsAt.filter((r) => r.site === 'site-2').length).toBeGreaterThanOrEqual(2);
    // The study may complete on the first copy; the re-send follows the reconnect's backoff (about a second).
    const resent = /re-sending evaluation for study \w+ round 1 after reconnect/;
    const logFile = path.join(fed.work, 'logs', 'site-2.log');
    for (let i = 0; i < 100 && !resent.test(fs.readFileSync(logFile, 'utf8')); i++)
      await new Promise((r) => setTimeout(r, 200));
    expect(fs.readFileSync(logFile, 'utf8')).toMatch(resent);
    const sites = await fed.prisma.site.findMany({ where: { name: { in: names } } });
    for (const site of sites) {
      const dice = await fed.prisma.metric.findMany({
        where: { studyId, siteId: site.id, split: 'val', name: 'dice' },
      });
      expect(dice).toHaveLength(1);
    }
    // The study-level aggregate of the round, once.
    expect(
      await fed.prisma.metric.count({ where: { studyId, siteId: null, split: 'val', name: 'dice' } }),
    ).toBe(1);
  }, 240_000);
});
