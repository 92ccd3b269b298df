import { z } from 'zod';
import { EnrollReply, enrollRequest, generateIdentity, keyFingerprint } from '@fedseg/protocol';
import { EnrollOptions, optionsFrom } from '../agent-options';
import { AgentHome, defaultAgentHome } from '../identity-store';

type Io = { out(line: string): void; err(line: string): void };

/**
 * `fedseg-agent enroll`: makes this site's keys (they never leave this machine), registers their public
 * halves with a one-time token, and pins the coordinator's key. Prints the coordinator's fingerprint to
 * compare with the one its operator gave out of band.
 */
export async function enrollCommand(argv: string[], io: Io): Promise<number> {
  const parsed = EnrollOptions.safeParse(
    optionsFrom(argv, process.env, { token: process.env.FEDSEG_ENROLLMENT_TOKEN }),
  );
  if (!parsed.success) {
    io.err(`fedseg-agent enroll: ${z.prettifyError(parsed.error).replace(/\n/g, ' ')}`);
    io.err('usage: fedseg-agent enroll --coordinator URL --token fset_… --site NAME [--home DIR]');
    return 2;
  }
  const options = parsed.data;
  const home = new AgentHome(options.home ?? defaultAgentHome());
  if (home.hasIdentity()) {
    io.err(
      `fedseg-agent enroll: ${home.dir} already holds an enrolled identity; use another --home, or remove it to enroll again.`,
    );
    return 2;
  }
  io.out(`enrolling site ${options.site} with ${options.coordinator} (keys stay in ${home.dir})`);
  const keys = generateIdentity();
  const body = enrollRequest(options.token, options.site, keys);
  const res = await fetch(`${options.coordinator.replace(/\/$/, '')}/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
    io.err(
      `fedseg-agent enroll: refused (${error?.code ?? `HTTP ${res.status}`}): ${error?.message ?? 'no reason given'}`,
    );
    return 1;
  }
  const reply = EnrollReply.parse(json);
  if (keyFingerprint(reply.coordinator) !== reply.coordinatorFingerprint) {
    io.err(
      'fedseg-agent enroll: the coordinator sent a fingerprint that does not match its keys; not saved.',
    );
    return 1;
  }
  home.saveIdentity({
    siteId: reply.siteId,
    siteName: reply.siteName,
    coordinatorUrl: options.coordinator,
    keys,
    coordinator: reply.coordinator,
    coordinatorFingerprint: reply.coordinatorFingerprint,
    enrolledAt: new Date().toISOString(),
  });
  io.out(`enrolled as site ${reply.siteName} (${reply.siteId})`);
  io.out(`coordinator key fingerprint: ${reply.coordinatorFingerprint}`);
  io.out(
    'compare it with the fingerprint the coordinator operator gave you; every task is checked against this key',
  );
  return 0;
}
