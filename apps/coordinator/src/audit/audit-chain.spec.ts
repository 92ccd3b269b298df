import { GENESIS_HASH, auditEntryHash, verifyAuditChain, type AuditEntry } from './audit-chain';

/** A chain built by hand with the same rule the repository uses: each hash covers the entry and its prevHash. */
function chain(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const entry = {
      seq,
      at: new Date(Date.UTC(2026, 11, 2, 3, 0, seq)).toISOString(),
      actor: seq % 2 ? 'user:admin' : 'site:hospital-a',
      action: 'study.created',
      subject: null,
      details: { n: seq },
      source: '10.0.0.1',
      prevHash: prev,
    };
    const hash = auditEntryHash(entry);
    out.push({ ...entry, hash });
    prev = hash;
  }
  return out;
}

describe('the audit hash chain', () => {
  it('verifies an intact chain and reports its head', () => {
    const entries = chain(5);
    expect(verifyAuditChain(entries)).toEqual({ ok: true, entries: 5, lastHash: entries[4]!.hash });
  });

  it('names the edited entry', () => {
    const entries = chain(5);
    entries[2] = { ...entries[2]!, details: { n: 99 } };
    expect(verifyAuditChain(entries)).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: expect.stringMatching(/edited/),
    });
  });

  it('names the place where an entry was removed', () => {
    const entries = chain(5);
    entries.splice(1, 1);
    expect(verifyAuditChain(entries)).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: expect.stringMatching(/removed/),
    });
  });

  it('catches an entry edited with its hash recomputed, at the next link', () => {
    const entries = chain(5);
    const forged = { ...entries[1]!, actor: 'user:mallory' };
    entries[1] = { ...forged, hash: auditEntryHash(forged) };
    expect(verifyAuditChain(entries)).toMatchObject({
      ok: false,
      brokenAt: 3,
      reason: expect.stringMatching(/prevHash/),
    });
  });
});
