import { EventEmitter } from 'node:events';
import { Injectable } from '@nestjs/common';
import type { AgentHello, SignedFingerprintRequest, SignedSecAggRequest, SignedTask } from '@fedseg/protocol';

/** How the scheduler reaches a connected agent, without knowing about sockets. */
export interface AgentConnection {
  readonly connectionId: string;
  sendTask(task: SignedTask, weights: Uint8Array): void;
  /** A secure-aggregation phase request (advertise, share, unmask). */
  sendSecAgg(request: SignedSecAggRequest): void;
  /** Issue 18: asks for the site's data fingerprint before round 1. */
  sendFingerprintRequest?(request: SignedFingerprintRequest): void;
  /** Ends the connection at once (revocation, or a newer session of the site), telling the agent why. */
  close(reason: string, code?: 'SITE_REVOKED' | 'SESSION_REPLACED'): void;
}

export interface OnlineSite {
  siteId: string;
  name: string;
  hello: AgentHello;
  connection: AgentConnection;
  /** Studies whose current round selected this site and has not finished. */
  busyStudies: Set<string>;
}

/**
 * Which sites are connected right now, and how busy each is. In memory on purpose: a connection is
 * process state; after a restart every agent reconnects and says hello again.
 */
@Injectable()
export class SiteRegistry {
  private readonly online = new Map<string, OnlineSite>();
  private readonly busy = new Map<string, Set<string>>();
  readonly events = new EventEmitter();

  /**
   * A site has one session. A reconnect whose previous connection still looks open here (half-open behind a
   * NAT or proxy that dropped it, until its ping times out) replaces it: the old one is closed, and its late
   * disconnect is ignored (see disconnect).
   */
  connect(siteId: string, hello: AgentHello, connection: AgentConnection): void {
    const previous = this.online.get(siteId);
    const busyStudies = this.busy.get(siteId) ?? new Set<string>();
    this.busy.set(siteId, busyStudies);
    this.online.set(siteId, { siteId, name: hello.siteName, hello, connection, busyStudies });
    if (previous && previous.connection.connectionId !== connection.connectionId)
      previous.connection.close('replaced by a newer connection of this site', 'SESSION_REPLACED');
    this.events.emit('online', siteId);
  }

  disconnect(siteId: string, connectionId: string): void {
    const site = this.online.get(siteId);
    if (site && site.connection.connectionId === connectionId) {
      this.online.delete(siteId);
      this.events.emit('offline', siteId);
    }
  }

  get(siteId: string): OnlineSite | undefined {
    return this.online.get(siteId);
  }

  list(): OnlineSite[] {
    return [...this.online.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  isOnline(siteId: string): boolean {
    return this.online.has(siteId);
  }

  /** Sites that may join a round of this study now. */
  eligible(studyId: string, allowedNames: readonly string[] | undefined): OnlineSite[] {
    return this.list().filter(
      (s) =>
        (allowedNames === undefined || allowedNames.includes(s.name)) &&
        (s.busyStudies.has(studyId) || s.busyStudies.size < s.hello.maxConcurrentStudies),
    );
  }

  markBusy(siteIds: readonly string[], studyId: string): void {
    for (const id of siteIds) {
      const set = this.busy.get(id) ?? new Set<string>();
      set.add(studyId);
      this.busy.set(id, set);
    }
  }

  release(siteIds: readonly string[], studyId: string): void {
    for (const id of siteIds) this.busy.get(id)?.delete(studyId);
    this.events.emit('released', studyId);
  }

  /** Revocation: drops the site's live connection now; the handshake refuses it from then on. */
  kick(siteId: string, reason: string): boolean {
    const site = this.online.get(siteId);
    if (!site) return false;
    site.connection.close(reason);
    this.online.delete(siteId);
    this.events.emit('offline', siteId);
    return true;
  }

  sendTask(siteId: string, task: SignedTask, weights: Uint8Array): boolean {
    const site = this.online.get(siteId);
    if (!site) return false;
    site.connection.sendTask(task, weights);
    return true;
  }

  sendSecAgg(siteId: string, request: SignedSecAggRequest): boolean {
    const site = this.online.get(siteId);
    if (!site) return false;
    site.connection.sendSecAgg(request);
    return true;
  }
}
