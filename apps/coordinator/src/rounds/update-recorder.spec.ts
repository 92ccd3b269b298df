import crypto from 'node:crypto';
import { AuditRepository } from '../audit/audit.repository';
import { verifyAuditChain } from '../audit/audit-chain';
import { UpdateRejectedError } from '../common/errors';
import { startTestCoordinator } from '../testing/test-coordinator';
import { RoundsRepository } from './rounds.repository';
import { UpdateRecorder, type UpdateToRecord } from './update-recorder';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

/** Group commit on a real (embedded) database: many updates at once, each recorded once or refused with its reason. */
describe('UpdateRecorder', () => {
  let coordinator: Coordinator;
  let recorder: UpdateRecorder;
  let rounds: RoundsRepository;
  let studyId: string;
  let round: { id: string; index: number; selectedSiteIds: string[] };
  const sites: Array<{ siteId: string; name: string }> = [];

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
    rounds = coordinator.app.get(RoundsRepository);
    recorder = new UpdateRecorder(rounds, coordinator.app.get(AuditRepository));
    const { prisma } = coordinator;
    for (let i = 0; i < 12; i++) {
      const site = await prisma.site.create({ data: { name: `recorder-site-${i}` } });
      sites.push({ siteId: site.id, name: site.name });
    }
    studyId = (await prisma.study.create({ data: { name: 'recorder', config: {} } })).id;
    const row = await prisma.round.create({
      data: {
        studyId,
        index: 1,
        deadlineAt: new Date(Date.now() + 60_000),
        status: 'training',
        // The last two sites are not selected.
        selectedSiteIds: sites.slice(0, 10).map((s) => s.siteId),
      },
    });
    round = { id: row.id, index: row.index, selectedSiteIds: row.selectedSiteIds };
  });
  afterAll(async () => {
    await coordinator.close();
  });

  const update = (site: { siteId: string; name: string }, nonce: string): UpdateToRecord => ({
    studyId,
    round,
    site,
    samples: 3,
    wireBytes: 10,
    bytes: 10,
    sha256: 'ab'.repeat(32),
    storageKey: `updates/${site.siteId}-${nonce}`,
    nonce,
    trainLoss: 0.5,
  });

  const refusalCode = (p: Promise<string>) =>
    p.then(
      () => 'accepted',
      (err: unknown) => (err instanceof UpdateRejectedError ? err.code : `error: ${String(err)}`),
    );

  it('records a burst of concurrent updates once each, refusing duplicates, reused nonces and unselected sites', async () => {
    const auditBefore = await coordinator.prisma.auditEvent.count();
    const outcomes = await Promise.all([
      ...sites.slice(0, 8).map((s, i) => refusalCode(recorder.record(update(s, `nonce-${i}`)))),
      refusalCode(recorder.record(update(sites[0]!, 'nonce-again'))), // site 0's second update
      refusalCode(recorder.record(update(sites[8]!, 'nonce-1'))), // site 1's nonce, replayed by site 8
      refusalCode(recorder.record(update(sites[10]!, 'nonce-10'))), // not selected
    ]);
    expect(outcomes).toEqual([
      ...Array(8).fill('accepted'),
      'DUPLICATE_UPDATE',
      'NONCE_REUSED',
      'SITE_NOT_SELECTED',
    ]);
    const rows = await coordinator.prisma.siteUpdate.findMany({ where: { roundId: round.id } });
    expect(rows.map((r) => r.siteId).sort()).toEqual(
      sites
        .slice(0, 8)
        .map((s) => s.siteId)
        .sort(),
    );
    expect(rows.find((r) => r.siteId === sites[0]!.siteId)?.nonce).toBe('nonce-0');
    // One audit row per accepted update, and the chain still verifies.
    expect((await coordinator.prisma.auditEvent.count()) - auditBefore).toBe(8);
    const chain = await coordinator.app.get(AuditRepository).exportChain();
    expect(verifyAuditChain(chain)).toMatchObject({ ok: true });
  });

  it("reads a burst's admission in one query: the study, the round, and which nonces were used", async () => {
    const found = await rounds.updateAdmission(studyId, 1, ['nonce-1', 'never-sent', 'nonce-5']);
    expect(found?.study).toMatchObject({ id: studyId, name: 'recorder', status: 'draft', roundsDone: 0 });
    expect(found?.study.createdAt).toBeInstanceOf(Date);
    expect(found?.round).toEqual({
      id: round.id,
      index: 1,
      status: 'training',
      selectedSiteIds: round.selectedSiteIds,
    });
    expect(found?.usedNonces).toEqual(new Set(['nonce-1', 'nonce-5']));
    expect(await rounds.updateAdmission(studyId, 2, ['nonce-1'])).toMatchObject({ round: null });
    expect(await rounds.updateAdmission(crypto.randomUUID(), 1, [])).toBeNull();
  });

  it('refuses an update once the round closed, and records nothing for it', async () => {
    await rounds.setRoundStatus(round.id, 'aggregating');
    const before = await coordinator.prisma.siteUpdate.count();
    const auditBefore = await coordinator.prisma.auditEvent.count();
    await expect(recorder.record(update(sites[9]!, 'nonce-9'))).rejects.toMatchObject({
      code: 'ROUND_CLOSED',
      message: 'Round 1 is aggregating; it no longer accepts updates.',
    });
    expect(await coordinator.prisma.siteUpdate.count()).toBe(before);
    expect(await coordinator.prisma.auditEvent.count()).toBe(auditBefore);
  });
});
