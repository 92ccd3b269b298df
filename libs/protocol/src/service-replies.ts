import { z } from 'zod';

/** GET /health (public): liveness, and the coordinator's key fingerprint for site admins to compare. */
export const HealthReply = z.object({
  ok: z.literal(true),
  database: z.enum(['postgres', 'pglite']),
  coordinatorFingerprint: z.string(),
});
export type HealthReply = z.infer<typeof HealthReply>;

/** GET /ready: whether this coordinator takes work now (200) or not (503), and which check failed. */
export const ReadyReply = z.object({
  ready: z.boolean(),
  checks: z.object({
    /** The database answers a query. */
    database: z.boolean(),
    /** The process is not shutting down (SIGTERM received). */
    accepting: z.boolean(),
  }),
});
export type ReadyReply = z.infer<typeof ReadyReply>;

/** GET /metrics: the Prometheus text exposition format (prom-client). */
export const MetricsText = z.string().describe('Prometheus text exposition format 0.0.4');

/** One entry of the append-only, hash-chained audit log (the coordinator's audit-chain.ts checks the chain). */
export const AuditEntry = z.object({
  seq: z.int().min(1),
  at: z.iso.datetime(),
  actor: z.string(),
  action: z.string(),
  subject: z.string().nullable(),
  details: z.unknown().nullable(),
  source: z.string().nullable(),
  prevHash: z.string().regex(/^[0-9a-f]{64}$/),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

/** GET /audit/export, what `fedseg audit export` writes: the chain, and the coordinator's signature over its head. */
export const AuditExport = z.object({
  format: z.literal('fedseg-audit/v1'),
  exportedAt: z.iso.datetime(),
  coordinator: z.object({
    signingPublicKey: z.string(),
    agreementPublicKey: z.string(),
    fingerprint: z.string(),
  }),
  head: z.object({ seq: z.int().min(0), hash: z.string() }),
  /** Ed25519 over canonical {format, exportedAt, head} with the coordinator's signing key. */
  signature: z.string(),
  entries: z.array(AuditEntry),
});
export type AuditExport = z.infer<typeof AuditExport>;
