import { UpdateRejectedError } from '../common/errors';
import { startTestCoordinator } from '../testing/test-coordinator';
import { MetricsRecorder, type MetricsToRecord } from './metrics-recorder';
import { RoundsRepository } from './rounds.repository';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

/** Group commit of metric reports on a real (embedded) database: each stored once or refused with its reason. */
describe('MetricsRecorder', () => {
  let coordinator: Coordinator;
  let recorder: MetricsRecorder;
  let rounds: RoundsRepository;
  let studyId: string;
  let roundId: string;
  const sites: Array<{ siteId: string; name: string }> = [];

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
    rounds = coordinator.app.get(RoundsRepository);
    recorder = new MetricsRecorder(rounds);
    const { prisma } = coordinator;
    for (let i = 0; i < 6; i++) {
      const site = await prisma.site.create({ data: { name: `metrics-site-${i}` } });
      sites.push({ siteId: site.id, name: site.name });
    }
    studyId = (await prisma.study.create({ data: { name: 'metrics recorder', config: {} } })).id;
    roundId = (
      await prisma.round.create({
        data: {
          studyId,
          index: 1,
          deadlineAt: new Date(Date.now() + 60_000),
          status: 'evaluating',
          selectedSiteIds: sites.map((s) => s.siteId),
        },
      })
    ).id;
  });
  afterAll(async () => {
    await coordinator.close();
  });

  const report = (
    site: { siteId: string; name: string },
    dice: number,
    round = 1,
    split = 'val',
  ): MetricsToRecord => ({
    studyId,
    round,
    split,
    site,
    rows: [
      { studyId, roundIndex: round, siteId: site.siteId, split, name: 'dice', value: dice, samples: 2 },
      { studyId, roundIndex: round, siteId: site.siteId, split, name: 'cases', value: 2, samples: 2 },
    ],
  });

  const outcome = (p: Promise<void>) =>
    p.then(
      () => 'stored',
      (err: unknown) => (err instanceof UpdateRejectedError ? err.code : `error: ${String(err)}`),
    );

  const storedRows = () =>
    coordinator.prisma.metric.findMany({
      where: { studyId },
      orderBy: [{ siteId: 'asc' }, { name: 'asc' }],
      select: { siteId: true, split: true, name: true, value: true },
    });

  it('stores a burst of reports once each, refusing a second report of a site (within the burst too) and unknown rounds', async () => {
    const outcomes = await Promise.all([
      ...sites.slice(0, 4).map((s, i) => outcome(recorder.record(report(s, 0.5 + i / 10)))),
      outcome(recorder.record(report(sites[0]!, 0.99))), // site 0's second val report
      outcome(recorder.record(report(sites[4]!, 0.1, 7))), // no round 7
      outcome(recorder.record(report(sites[0]!, 0.3, 1, 'train'))), // another split is another report
    ]);
    expect(outcomes).toEqual([
      'stored',
      'stored',
      'stored',
      'stored',
      'DUPLICATE_METRICS',
      'ROUND_NOT_FOUND',
      'stored',
    ]);
    const rows = await storedRows();
    expect(
      rows
        .filter((r) => r.name === 'dice' && r.split === 'val')
        .map((r) => r.value)
        .sort(),
    ).toEqual([0.5, 0.6, 0.7, 0.8]);
    expect(rows.filter((r) => r.siteId === sites[0]!.siteId && r.split === 'val')).toHaveLength(2);
    expect(rows).toHaveLength(10);
  });

  it('refuses a val report once the round stopped evaluating, and stores nothing for it', async () => {
    await rounds.setRoundStatus(roundId, 'completed');
    const before = await storedRows();
    await expect(recorder.record(report(sites[5]!, 0.7))).rejects.toMatchObject({
      code: 'ROUND_CLOSED',
      message: 'Round 1 is completed; it is not collecting evaluations.',
    });
    expect(await storedRows()).toEqual(before);
  });
});
