import { startTestCoordinator } from '../testing/test-coordinator';
import { verifyAuditChain } from './audit-chain';
import { AuditRepository } from './audit.repository';

type Coordinator = Awaited<ReturnType<typeof startTestCoordinator>>;

/** On PGlite (the security suite covers PostgreSQL): the chain the repository writes, and the trigger. */
describe('the audit log on PGlite', () => {
  let coordinator: Coordinator;

  beforeAll(async () => {
    coordinator = await startTestCoordinator();
    const audit = coordinator.app.get(AuditRepository);
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        audit.record({ actor: 'system', action: 'test.event', details: { i } }),
      ),
    );
  });
  afterAll(async () => {
    await coordinator.close();
  });

  it('writes a gapless chain that verifies, even when entries are recorded concurrently', async () => {
    const entries = await coordinator.app.get(AuditRepository).exportChain();
    expect(entries.length).toBeGreaterThanOrEqual(9); // the bootstrap admin, then the eight above
    expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
    expect(verifyAuditChain(entries)).toMatchObject({ ok: true });
  });

  it('appends a burst of entries recorded on their own in a few transactions, in the order they were recorded', async () => {
    const audit = coordinator.app.get(AuditRepository);
    const before = await coordinator.prisma.auditEvent.count();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        audit.record({ actor: 'system', action: 'test.burst', details: { i } }),
      ),
    );
    const burst = await coordinator.prisma.auditEvent.findMany({
      where: { action: 'test.burst' },
      orderBy: { seq: 'asc' },
    });
    expect(burst.map((e) => (e.details as { i: number }).i)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(await coordinator.prisma.auditEvent.count()).toBe(before + 40);
    // One transaction stamps its entries with one time: the first went alone, the rest waited and went together.
    expect(new Set(burst.map((e) => e.at.getTime())).size).toBeLessThanOrEqual(3);
    expect(verifyAuditChain(await audit.exportChain())).toMatchObject({ ok: true });
  });

  it.each([
    ["UPDATE audit_event SET actor = 'mallory'", "UPDATE metric SET name = 'mallory'"],
    ['DELETE FROM audit_event', 'DELETE FROM metric'],
  ])('refuses %s in the database and keeps every row', async (sql, control) => {
    const before = await coordinator.prisma.auditEvent.findMany({ orderBy: { seq: 'asc' } });
    // The same kind of statement on another table goes through: the refusal is the audit table's own.
    await expect(coordinator.prisma.$executeRawUnsafe(control)).resolves.toBe(0);
    // PGlite's Prisma adapter drops the trigger's message (PostgreSQL keeps it: see test/security).
    await expect(coordinator.prisma.$executeRawUnsafe(sql)).rejects.toThrow();
    expect(await coordinator.prisma.auditEvent.findMany({ orderBy: { seq: 'asc' } })).toEqual(before);
  });
});
