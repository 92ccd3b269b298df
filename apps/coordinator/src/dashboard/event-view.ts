import type { RoundEvent } from '@fedseg/protocol';
import type { Caller } from '../auth/caller';

/**
 * What of a round event a dashboard caller may see: everything for admins and researchers; for a site-admin
 * the study-level figures and its own site's, never another site's (null: not sent at all).
 */
export function eventViewFor(caller: Pick<Caller, 'role' | 'siteId'>, event: RoundEvent): RoundEvent | null {
  if (caller.role !== 'site_admin') return event;
  switch (event.type) {
    case 'update-received':
    case 'task-progress':
    case 'metrics-received':
      return event.siteId === caller.siteId ? event : null;
    case 'round-started':
      return { ...event, siteIds: event.siteIds.filter((id) => id === caller.siteId) };
    default:
      return event;
  }
}
