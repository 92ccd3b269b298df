import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AuditExport, verifyAuditExport } from '../audit/audit-chain';

/**
 * `fedseg`: the operator's CLI. Everything but `audit verify` talks to a running coordinator's REST API with
 * an admin API token (--token, FEDSEG_TOKEN, or the first-start file <FEDSEG_HOME>/admin.token).
 */
const USAGE = `fedseg: operate a fedseg coordinator

  fedseg enrollment-token SITE [--ttl-hours 24]        one-time token for a hospital to enroll its agent
  fedseg sites                                         enrolled sites, online or not
  fedseg sites revoke SITE                             disconnect a site now and refuse it from then on
  fedseg users                                         users and roles
  fedseg users create NAME --role admin|researcher|site_admin [--site SITE]   prints the user's API token once
  fedseg tokens issue USER                             another API token for a user (shown once)
  fedseg tokens revoke TOKEN_ID
  fedseg audit export [--out FILE]                     the hash-chained audit log, signed by the coordinator
  fedseg audit verify FILE [--fingerprint FP]          check an exported log offline; names the first broken link

Options: --coordinator URL (FEDSEG_COORDINATOR, default http://127.0.0.1:4800), --token TOKEN (FEDSEG_TOKEN).`;

type Io = { out(line: string): void; err(line: string): void };

class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

function parse(argv: string[]): { positional: string[]; flags: Record<string, string> } {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      const value = inline ?? argv[i + 1];
      if (value === undefined || (inline === undefined && value.startsWith('--')))
        throw new CliError(`--${name} needs a value`, 2);
      flags[name] = value;
      if (inline === undefined) i++;
    } else positional.push(a);
  }
  return { positional, flags };
}

export async function fedsegCli(
  argv: string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  try {
    const { positional, flags } = parse(argv);
    const [noun, verb, arg] = positional;
    if (!noun || noun === 'help') {
      io.out(USAGE);
      return noun ? 0 : 2;
    }
    if (noun === 'audit' && verb === 'verify') return verifyFile(arg, flags.fingerprint, io);
    const api = client(flags, env);
    switch (`${noun} ${verb ?? ''}`.trim()) {
      case 'enrollment-token':
        throw new CliError('which site? fedseg enrollment-token SITE', 2);
      case `enrollment-token ${verb}`: {
        const ttlMs = Math.round(Number(flags['ttl-hours'] ?? 24) * 3_600_000);
        const issued = (await api('POST', '/enrollment-tokens', { siteName: verb, ttlMs })) as {
          token: string;
          expiresAt: string;
        };
        io.out(`enrollment token for ${verb} (one use, expires ${issued.expiresAt}):`);
        io.out(issued.token);
        io.out(
          `give it to the site admin, who runs: fedseg-agent enroll --coordinator URL --token TOKEN --site ${verb}`,
        );
        return 0;
      }
      case 'sites': {
        const sites = (await api('GET', '/sites')) as Array<{
          name: string;
          id: string;
          online: boolean;
          revokedAt: string | null;
          lastSeenAt: string | null;
        }>;
        for (const s of sites)
          io.out(
            `${s.name.padEnd(24)} ${s.id}  ${s.revokedAt ? 'revoked' : s.online ? 'online ' : 'offline'}  last seen ${s.lastSeenAt ?? 'never'}`,
          );
        return 0;
      }
      case 'sites revoke': {
        if (!arg) throw new CliError('which site? fedseg sites revoke SITE', 2);
        const sites = (await api('GET', '/sites')) as Array<{ name: string; id: string }>;
        const site = sites.find((s) => s.name === arg || s.id === arg);
        if (!site) throw new CliError(`no site ${arg}; fedseg sites lists them`);
        const r = (await api('POST', `/sites/${site.id}/revoke`, {})) as {
          revokedAt: string;
          disconnected: boolean;
        };
        io.out(
          `revoked ${site.name} at ${r.revokedAt}${r.disconnected ? '; its connection was closed' : ''}`,
        );
        return 0;
      }
      case 'users': {
        for (const u of (await api('GET', '/users')) as Array<{
          name: string;
          role: string;
          siteName: string | null;
        }>)
          io.out(`${u.name.padEnd(24)} ${u.role}${u.siteName ? ` (${u.siteName})` : ''}`);
        return 0;
      }
      case 'users create': {
        if (!arg || !flags.role) throw new CliError('fedseg users create NAME --role ROLE [--site SITE]', 2);
        const r = (await api('POST', '/users', {
          name: arg,
          role: flags.role,
          ...(flags.site ? { siteName: flags.site } : {}),
        })) as { token: string; tokenId: string };
        io.out(`user ${arg} (${flags.role}) created; API token ${r.tokenId} (shown once):`);
        io.out(r.token);
        return 0;
      }
      case 'tokens issue': {
        if (!arg) throw new CliError('fedseg tokens issue USER', 2);
        const r = (await api('POST', `/users/${encodeURIComponent(arg)}/tokens`, {})) as {
          token: string;
          tokenId: string;
        };
        io.out(`API token ${r.tokenId} for ${arg} (shown once):`);
        io.out(r.token);
        return 0;
      }
      case 'tokens revoke': {
        if (!arg) throw new CliError('fedseg tokens revoke TOKEN_ID', 2);
        const r = (await api('POST', `/tokens/${arg}/revoke`, {})) as { revokedAt: string };
        io.out(`token ${arg} revoked at ${r.revokedAt}`);
        return 0;
      }
      case 'audit export': {
        const exported = AuditExport.parse(await api('GET', '/audit/export'));
        const text = JSON.stringify(exported, null, 2);
        if (flags.out) {
          fs.writeFileSync(flags.out, text);
          io.out(
            `wrote ${exported.entries.length} audit entries to ${flags.out} (head ${exported.head.seq}, ${exported.head.hash.slice(0, 16)}…)`,
          );
        } else io.out(text);
        return 0;
      }
      default:
        throw new CliError(`unknown command "${positional.join(' ')}"\n\n${USAGE}`, 2);
    }
  } catch (err) {
    io.err(`fedseg: ${(err as Error).message}`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

function verifyFile(file: string | undefined, fingerprint: string | undefined, io: Io): number {
  if (!file) throw new CliError('fedseg audit verify FILE', 2);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CliError(`${file} is not a readable JSON file: ${(err as Error).message}`);
  }
  const parsed = AuditExport.safeParse(raw);
  if (!parsed.success)
    throw new CliError(
      `${file} is not a fedseg audit export: ${z.prettifyError(parsed.error).split('\n')[0]}`,
    );
  const check = verifyAuditExport(parsed.data, fingerprint);
  if (!check.ok) {
    io.err(`BROKEN at entry ${check.brokenAt}: ${check.reason}`);
    return 1;
  }
  if (!check.signatureValid) {
    io.err(
      "BROKEN: the coordinator's signature does not cover this chain's head (entries were added, removed or rewritten)",
    );
    return 1;
  }
  if (check.fingerprintMatches === false) {
    io.err(`BROKEN: signed by coordinator ${parsed.data.coordinator.fingerprint}, not ${fingerprint}`);
    return 1;
  }
  io.out(
    `OK: ${check.entries} entries, chain intact, head ${check.lastHash.slice(0, 16)}… signed by coordinator ${parsed.data.coordinator.fingerprint}${fingerprint ? ' (as expected)' : ''}`,
  );
  return 0;
}

function client(flags: Record<string, string>, env: NodeJS.ProcessEnv) {
  const base = (flags.coordinator ?? env.FEDSEG_COORDINATOR ?? 'http://127.0.0.1:4800').replace(/\/$/, '');
  let token = flags.token ?? env.FEDSEG_TOKEN;
  if (!token) {
    const file = path.resolve(env.FEDSEG_HOME ?? '.fedseg', 'admin.token');
    if (fs.existsSync(file)) token = fs.readFileSync(file, 'utf8').trim();
  }
  if (!token)
    throw new CliError(
      'no API token: pass --token, set FEDSEG_TOKEN, or run where <FEDSEG_HOME>/admin.token exists',
      2,
    );
  return async (method: string, pathname: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}${pathname}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    if (!res.ok)
      throw new CliError(
        `${json?.error?.message ?? `HTTP ${res.status}`} (${json?.error?.code ?? res.status})`,
      );
    return json;
  };
}
