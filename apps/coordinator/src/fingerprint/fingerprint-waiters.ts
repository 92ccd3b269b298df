import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';

/**
 * Wakes a study's fingerprint phase when a site answers (a stored report or a decline), so the phase need not
 * poll the database. In memory: after a restart the phase re-reads the stored reports.
 */
@Injectable()
export class FingerprintWaiters {
  readonly events = new EventEmitter();
  private readonly declines = new Map<string, Set<string>>();

  answered(studyId: string, siteId: string, declined = false): void {
    if (declined) {
      const set = this.declines.get(studyId) ?? new Set<string>();
      set.add(siteId);
      this.declines.set(studyId, set);
    }
    this.events.emit(studyId);
  }

  declinedSites(studyId: string): ReadonlySet<string> {
    return this.declines.get(studyId) ?? new Set<string>();
  }
}
