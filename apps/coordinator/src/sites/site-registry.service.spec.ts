import type { AgentHello, SignedTask } from '@fedseg/protocol';
import { SiteRegistry } from './site-registry.service';

const hello = (siteName: string, maxConcurrentStudies: number): AgentHello => ({
  siteName,
  agentVersion: 'test',
  backend: { name: 'cpu', skipped: [] },
  maxConcurrentStudies,
  dataSummary: { trainCases: 1, valCases: 0 },
});

function connection(id: string, sent: SignedTask[] = []) {
  return {
    connectionId: id,
    sendTask: (task: SignedTask) => void sent.push(task),
    sendSecAgg: () => undefined,
    close: () => undefined,
  };
}

describe('SiteRegistry', () => {
  it('lets a site join several studies up to its own limit, and frees it when a round ends', () => {
    const registry = new SiteRegistry();
    registry.connect('a', hello('a', 2), connection('c1'));
    registry.connect('b', hello('b', 1), connection('c2'));
    registry.markBusy(['a', 'b'], 'study-1');
    // b is at its limit of 1 study; a can still take a second one, but not a third.
    expect(registry.eligible('study-2', undefined).map((s) => s.siteId)).toEqual(['a']);
    // a site already in a study stays eligible for that study's next round
    expect(registry.eligible('study-1', undefined).map((s) => s.siteId)).toEqual(['a', 'b']);
    registry.markBusy(['a'], 'study-2');
    expect(registry.eligible('study-3', undefined)).toEqual([]);
    registry.release(['a', 'b'], 'study-1');
    expect(registry.eligible('study-3', undefined).map((s) => s.siteId)).toEqual(['a', 'b']);
  });

  it("restricts eligibility to the study's allowed site names", () => {
    const registry = new SiteRegistry();
    registry.connect('a', hello('alpha', 2), connection('c1'));
    registry.connect('b', hello('beta', 2), connection('c2'));
    expect(registry.eligible('s', ['beta']).map((s) => s.name)).toEqual(['beta']);
  });

  it('ignores a stale disconnect from a replaced connection and keeps busy marks across reconnects', () => {
    const registry = new SiteRegistry();
    registry.connect('a', hello('a', 1), connection('old'));
    registry.markBusy(['a'], 's');
    const sent: SignedTask[] = [];
    registry.connect('a', hello('a', 1), connection('new', sent));
    registry.disconnect('a', 'old');
    expect(registry.isOnline('a')).toBe(true);
    expect(registry.get('a')?.busyStudies.has('s')).toBe(true);
    registry.disconnect('a', 'new');
    expect(registry.isOnline('a')).toBe(false);
    expect(registry.sendTask('a', {} as SignedTask, new Uint8Array())).toBe(false);
  });

  it('closes the connection a reconnect replaces, so a site has one session', () => {
    const registry = new SiteRegistry();
    const closed: string[] = [];
    const tracked = (id: string) => ({
      ...connection(id),
      close: (reason: string, code?: string) => void closed.push(`${id}: ${code}: ${reason}`),
    });
    registry.connect('a', hello('a', 1), tracked('old'));
    registry.connect('a', hello('a', 1), tracked('new'));
    // Its own code, so the old agent can say what happened rather than suspect a revocation.
    expect(closed).toEqual(['old: SESSION_REPLACED: replaced by a newer connection of this site']);
    expect(registry.get('a')?.connection.connectionId).toBe('new');
    // The same connection saying hello again is not a replacement.
    registry.connect('a', hello('a', 1), tracked('new'));
    expect(closed).toHaveLength(1);
    expect(registry.list()).toHaveLength(1);
  });
});
