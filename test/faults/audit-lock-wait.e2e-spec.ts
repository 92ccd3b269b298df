import { startFederation, type Federation } from '../support/federation';

/** The audit chain's lock (AUDIT_LOCK_KEY in apps/coordinator/src/audit/audit.repository.ts: "feds"). */
const AUDIT_LOCK_KEY = 0x6665_6473;
const HELD_MS = 7_000;

/**
 * Every audited write queues for the audit chain's lock. Under a burst (a hundred enrollments, a load spike)
 * the queue can be longer than Prisma's default 5 s transaction timeout, which used to turn a write that only
 * had to wait into an HTTP 500 (P2028). Here the lock is held for 7 s by another connection on PostgreSQL: the
 * request waits and then succeeds, once.
 */
describe('an audited write while the audit lock is busy', () => {
  let fed: Federation;

  beforeAll(async () => {
    fed = await startFederation({ postgres: true, prefix: 'fedseg-e2e-auditlock' });
  });
  afterAll(async () => {
    await fed?.close();
  });

  it('waits for the lock past 5 s and then succeeds, writing its row and its audit entry once', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = fed.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`;
        locked();
        await released;
      },
      { timeout: 60_000 },
    );
    await isLocked;
    const started = Date.now();
    const reply = fed.post('/enrollment-tokens', { siteName: 'patient-site' });
    await new Promise((r) => setTimeout(r, HELD_MS));
    release();
    await holder;
    const { status } = await reply;
    expect(status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(HELD_MS);
    expect(await fed.prisma.enrollmentToken.count({ where: { siteName: 'patient-site' } })).toBe(1);
    expect(
      await fed.prisma.auditEvent.count({
        where: { action: 'enrollment.token-issued', details: { path: ['siteName'], equals: 'patient-site' } },
      }),
    ).toBe(1);
  }, 60_000);
});
