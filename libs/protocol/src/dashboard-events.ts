import { z } from 'zod';
import type { RoundEvent } from './round-events';
import { WhoAmI } from './user-replies';

/**
 * The /dashboard socket.io namespace. A browser connects with `auth: { token: 'fsat_…' }` (never in the URL);
 * the coordinator then pushes the round events of every study the caller may read. A site-admin receives
 * study-level figures and its own site's, never another site's.
 */
export const DASHBOARD_NAMESPACE = '/dashboard';

export const DashboardEvents = {
  roundEvent: 'round:event',
  ready: 'dashboard:ready',
} as const;

export const DashboardAuth = z.strictObject({ token: z.string().min(1).max(200) });
export type DashboardAuth = z.infer<typeof DashboardAuth>;

/** Sent once after the handshake: who the coordinator took the caller to be (the same as GET /whoami). */
export const DashboardReady = WhoAmI;
export type DashboardReady = z.infer<typeof DashboardReady>;

/** coordinator -> browser (socket.io's typed event map; checked at compile time, parsed at run time). */
export interface DashboardServerToClient {
  'round:event': (event: RoundEvent) => void;
  'dashboard:ready': (ready: DashboardReady) => void;
}

/** browser -> coordinator: nothing yet; steering goes through REST. */
export type DashboardClientToServer = Record<string, never>;
