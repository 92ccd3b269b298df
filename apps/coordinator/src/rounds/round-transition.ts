import type { AuditInput, AuditRepository } from '../audit/audit.repository';
import type { Db } from '../database/transactions';
import type { RoundEvent, RoundEvents } from './round-events';
import type { RoundsRepository } from './rounds.repository';

/**
 * The one way a study or round changes state: the writes and their audit row commit together, and only then
 * is the change announced (live views never show what a crash could undo). Returns what `write` returned.
 */
export async function commitTransition<T>(
  deps: { rounds: RoundsRepository; audit: AuditRepository; events: RoundEvents },
  change: {
    write: (tx: Db) => Promise<T>;
    audit: AuditInput | ((written: T) => AuditInput);
    announce: (written: T) => RoundEvent[];
  },
): Promise<T> {
  const written = await deps.rounds.transaction(async (tx) => {
    const result = await change.write(tx);
    await deps.audit.record(typeof change.audit === 'function' ? change.audit(result) : change.audit, tx);
    return result;
  });
  for (const event of change.announce(written)) deps.events.emit(event);
  return written;
}
