import crypto from 'node:crypto';
import {
  canonicalJson,
  keyFingerprint,
  verifyMessage,
  type AuditEntry,
  type AuditExport,
} from '@fedseg/protocol';

/**
 * The audit log is a hash chain: every entry carries the hash of the one before, so an edited, removed or
 * reordered entry breaks every link after it. `hash = sha256(canonical JSON of the entry with prevHash)`.
 * An export also carries the coordinator's signature over its last hash, so a rewritten chain is caught too.
 */
export const GENESIS_HASH = '0'.repeat(64);

// The entry and export formats are reply contracts (GET /audit/export), so they live in @fedseg/protocol.
export { AuditEntry, AuditExport } from '@fedseg/protocol';

export function auditEntryHash(entry: Omit<AuditEntry, 'hash'>): string {
  const { seq, at, actor, action, subject, details, source, prevHash } = entry;
  return crypto
    .createHash('sha256')
    .update(canonicalJson({ seq, at, actor, action, subject, details, source, prevHash }))
    .digest('hex');
}

/** Verifies an export: the chain link by link, then the coordinator's signature over its head. */
export function verifyAuditExport(
  file: AuditExport,
  expectedFingerprint?: string,
): ChainCheck & { signatureValid: boolean; fingerprintMatches: boolean | null } {
  const chain = verifyAuditChain(file.entries);
  const last = file.entries[file.entries.length - 1];
  const headMatches = (last?.seq ?? 0) === file.head.seq && (last?.hash ?? GENESIS_HASH) === file.head.hash;
  const signatureValid =
    headMatches &&
    verifyMessage(
      AUDIT_EXPORT_DOMAIN,
      { format: file.format, exportedAt: file.exportedAt, head: file.head },
      file.signature,
      file.coordinator.signingPublicKey,
    ) &&
    keyFingerprint(file.coordinator) === file.coordinator.fingerprint;
  return {
    ...chain,
    signatureValid,
    fingerprintMatches:
      expectedFingerprint === undefined ? null : expectedFingerprint === file.coordinator.fingerprint,
  };
}

export type ChainCheck =
  | { ok: true; entries: number; lastHash: string }
  | { ok: false; entries: number; brokenAt: number; reason: string };

/** Walks the chain from the first entry; names the first entry whose link does not hold. */
export function verifyAuditChain(entries: readonly AuditEntry[]): ChainCheck {
  let prev = GENESIS_HASH;
  let expectedSeq = entries[0]?.seq ?? 1;
  for (const e of entries) {
    if (e.seq !== expectedSeq)
      return {
        ok: false,
        entries: entries.length,
        brokenAt: e.seq,
        reason: `expected entry ${expectedSeq} here, found ${e.seq} (an entry was removed or moved)`,
      };
    if (expectedSeq === entries[0]!.seq && e.seq === 1 && e.prevHash !== GENESIS_HASH)
      return {
        ok: false,
        entries: entries.length,
        brokenAt: e.seq,
        reason: 'the first entry does not start the chain',
      };
    if (e.seq !== entries[0]!.seq && e.prevHash !== prev)
      return {
        ok: false,
        entries: entries.length,
        brokenAt: e.seq,
        reason: `its prevHash is not the hash of entry ${e.seq - 1}`,
      };
    if (auditEntryHash(e) !== e.hash)
      return {
        ok: false,
        entries: entries.length,
        brokenAt: e.seq,
        reason: 'its content does not match its hash (the entry was edited)',
      };
    prev = e.hash;
    expectedSeq++;
  }
  return { ok: true, entries: entries.length, lastHash: prev };
}

export const AUDIT_EXPORT_DOMAIN = 'fedseg/audit-export/v1';
