import net from 'node:net';
import { ProxySettings, proxySettingsFrom } from './agent-options';
import { ConnectTunnelAgent, redactProxy } from './proxy-tunnel';

/** How the agent reaches one coordinator: directly, or through a CONNECT tunnel agent (and why). */
export interface CoordinatorRoute {
  /** The coordinator's base URL, without a trailing slash. */
  base: string;
  agent?: ConnectTunnelAgent;
  /** One line for the start-up echo; the proxy's password never appears. */
  description: string;
}

export class ProxyConfigError extends Error {
  override name = 'ProxyConfigError';
}

/** Parses the proxy settings (flag, FEDSEG_PROXY, HTTPS_PROXY, HTTP_PROXY, NO_PROXY) or says which is wrong. */
export function parseProxySettings(env: NodeJS.ProcessEnv, flag?: string): ProxySettings {
  const parsed = ProxySettings.safeParse(proxySettingsFrom(env, flag));
  if (parsed.success) return parsed.data;
  const names: Record<string, string> = {
    proxy: flag ? '--proxy' : 'FEDSEG_PROXY',
    httpsProxy: 'HTTPS_PROXY',
    httpProxy: 'HTTP_PROXY',
    noProxy: 'NO_PROXY',
    proxyConnectTimeoutMs: 'FEDSEG_PROXY_CONNECT_TIMEOUT_MS',
  };
  const issue = parsed.error.issues[0]!;
  const field = String(issue.path[0] ?? '');
  throw new ProxyConfigError(`${names[field] ?? field}: ${issue.message}`);
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

/**
 * NO_PROXY as curl reads it: `*` matches everything; `example.org` and `.example.org` (or `*.example.org`)
 * match the domain and its subdomains; `host:port` only that port. Loopback is always direct (as Go's
 * net/http does): a proxy cannot reach the agent's own machine anyway.
 */
export function bypassesProxy(target: URL, noProxy: string): boolean {
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (isLoopback(host)) return true;
  const port = target.port || (target.protocol === 'https:' || target.protocol === 'wss:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (!m) continue;
    if (m[2] && m[2] !== port) continue;
    const domain = m[1]!.replace(/^\[(.*)\]$/, '$1').replace(/^\*?\./, '');
    if (host === domain || host.endsWith(`.${domain}`)) return true;
  }
  return false;
}

/** Which way to the coordinator, given the site's proxy settings. */
export function coordinatorRoute(coordinatorUrl: string, settings: ProxySettings): CoordinatorRoute {
  const base = coordinatorUrl.replace(/\/$/, '');
  const target = new URL(base);
  const secure = target.protocol === 'https:';
  const [proxy, source] = settings.proxy
    ? [settings.proxy, '--proxy/FEDSEG_PROXY']
    : secure
      ? [settings.httpsProxy, 'HTTPS_PROXY']
      : [settings.httpProxy, 'HTTP_PROXY'];
  if (!proxy) return { base, description: 'direct (no proxy set)' };
  if (bypassesProxy(target, settings.noProxy))
    return { base, description: `direct (${target.hostname} is loopback or in NO_PROXY)` };
  return {
    base,
    agent: new ConnectTunnelAgent(proxy, secure, settings.proxyConnectTimeoutMs),
    description: `through proxy ${redactProxy(proxy)} (${source}), CONNECT tunnel`,
  };
}
