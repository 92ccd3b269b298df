import { z } from 'zod';

/** REST replies about sites, as they travel. Browser-safe: no node: imports. */

/** The compute backend an agent reported last (BackendInfo in agent-messages.ts), never data. */
export const SiteBackend = z.looseObject({
  name: z.string(),
  adapter: z.string().optional(),
});
export type SiteBackend = z.infer<typeof SiteBackend>;

/**
 * How many cases a site trains and validates on: counts only, never anything about the cases. `hello`: what
 * the connected agent announced (AgentHello.dataSummary); `round`: for a site offline now, what it last
 * reported in a round (an update's sample count, an evaluation's case count). Null when neither exists.
 */
export const SiteDataset = z.object({
  trainCases: z.int().min(0).nullable(),
  valCases: z.int().min(0).nullable(),
  source: z.enum(['hello', 'round']),
  /** When the round figures were reported; for `hello`, the site's last contact. */
  reportedAt: z.iso.datetime(),
});
export type SiteDataset = z.infer<typeof SiteDataset>;

/** One row of GET /sites. */
export const SiteView = z.object({
  id: z.uuid(),
  name: z.string(),
  enrolled: z.boolean(),
  revokedAt: z.iso.datetime().nullable(),
  online: z.boolean(),
  busyStudies: z.array(z.string()),
  maxConcurrentStudies: z.int().min(1),
  backend: SiteBackend.nullable(),
  lastSeenAt: z.iso.datetime().nullable(),
  /** The connected agent's version (AgentHello.agentVersion); null while offline. */
  agentVersion: z.string().nullable(),
  dataset: SiteDataset.nullable(),
});
export type SiteView = z.infer<typeof SiteView>;

export const SiteList = z.array(SiteView);
export type SiteList = z.infer<typeof SiteList>;

/** POST /sites/:id/revoke. */
export const SiteRevoked = z.object({
  id: z.uuid(),
  name: z.string(),
  revokedAt: z.iso.datetime(),
  disconnected: z.boolean(),
});
export type SiteRevoked = z.infer<typeof SiteRevoked>;
