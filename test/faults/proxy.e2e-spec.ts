import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runAgentCommand, stopAgent } from '@fedseg/coordinator';
import { generateConsortium } from '@fedseg/imaging';
import { SiteList, type StudyConfigInput } from '@fedseg/protocol';
import { startConnectProxy, type ConnectProxy } from '../support/connect-proxy';
import { startFederation, type Federation } from '../support/federation';

/**
 * Issue 19, hospital networks: agents connect outbound only, through the site's HTTP proxy (CONNECT), and fall
 * back to long-polling where the proxy blocks websockets. The coordinator URL the agents are given names a
 * host only the proxy resolves (`.test` is reserved, RFC 6761), so the direct route fails and every byte the
 * agents exchange with the coordinator must cross a tunnel.
 */
const HOST = 'coordinator.fedseg.test';

const study: StudyConfigInput = {
  name: 'e2e behind a proxy',
  model: {
    architecture: 'unet3d',
    inChannels: 1,
    numClasses: 3,
    baseFilters: 2,
    depth: 2,
    normalization: 'instance',
  },
  training: { epochs: 1, batchSize: 2, learningRate: 1e-2, patchSize: [16, 16, 16], seed: 5 },
  rounds: 2,
  minSites: 2,
  roundDeadlineMs: 120_000,
  siteWaitMs: 120_000,
};

/** The child's proxy environment, both spellings, so the test machine's own variables cannot leak in. */
function proxyEnv(proxyUrl: string | undefined): NodeJS.ProcessEnv {
  const url = proxyUrl ?? '';
  return { HTTP_PROXY: url, http_proxy: url, HTTPS_PROXY: '', https_proxy: '', NO_PROXY: '', no_proxy: '' };
}

async function waitForLine(file: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const line = text.split('\n').find((l) => pattern.test(l));
    if (line) return line;
    if (Date.now() > until) throw new Error(`no line matching ${pattern} in ${file}:\n${text}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('an agent behind a hospital proxy', () => {
  let fed: Federation;
  let behindProxy: string;
  let siteDirs: string[];
  const proxies: ConnectProxy[] = [];
  const logOf = (site: string) => path.join(fed.work, 'logs', `${site}.log`);
  const proxy = async (options: Parameters<typeof startConnectProxy>[0]) => {
    const p = await startConnectProxy(options);
    proxies.push(p);
    return p;
  };

  beforeAll(async () => {
    fed = await startFederation({ postgres: true, prefix: 'fedseg-e2e-proxy' });
    behindProxy = `http://${HOST}:${new URL(fed.url).port}`;
    ({ siteDirs } = await generateConsortium({
      outDir: path.join(fed.work, 'sites'),
      sites: 2,
      casesPerSite: 4,
      shape: [16, 16, 16],
      seed: 23,
    }));
  });

  afterAll(async () => {
    await fed?.close();
    await Promise.all(proxies.map((p) => p.close()));
  });

  it('completes rounds through CONNECT tunnels, and over long-polling where the proxy blocks websockets', async () => {
    // The direct route fails: only the proxies resolve the coordinator's name.
    await expect(fetch(`${behindProxy}/agent/challenge`, { method: 'POST' })).rejects.toThrow();
    const hosts = { [HOST]: '127.0.0.1' };
    const plain = await proxy({ hosts });
    const inspecting = await proxy({ hosts, blockWebsocket: true });

    const names = ['site-1', 'site-2'];
    await fed.enroll(names);
    const studyId = await fed.createStudy(study);
    await fed.approve(studyId, names);
    await fed.startStudy(studyId);
    // site-1 reads HTTP_PROXY; site-2 is given --proxy (and no proxy variables) behind the inspecting proxy.
    const agents = [
      fed.spawn(
        'site-1',
        siteDirs[0]!,
        ['--backend', 'cpu', '--coordinator', behindProxy],
        proxyEnv(plain.url),
      ),
      fed.spawn(
        'site-2',
        siteDirs[1]!,
        ['--backend', 'cpu', '--coordinator', behindProxy, '--proxy', inspecting.url],
        proxyEnv(undefined),
      ),
    ];

    const final = await fed.waitForCompletion(studyId, 170_000);
    expect(final.status).toBe('completed');
    const updates = await fed.prisma.siteUpdate.findMany({
      where: { round: { studyId } },
      include: { site: true },
    });
    expect(updates.map((u) => u.site.name).sort()).toEqual(['site-1', 'site-1', 'site-2', 'site-2']);

    const target = `${HOST}:${new URL(fed.url).port}`;
    for (const p of [plain, inspecting]) {
      expect(p.tunnels.length).toBeGreaterThanOrEqual(2); // at least the socket and a challenge
      expect(p.tunnels.every((t) => t.target === target && t.status === 200)).toBe(true);
    }
    // The inspecting proxy cut websocket upgrades; site-2 still took part, over long-polling.
    expect(inspecting.tunnels.some((t) => t.upgradeBlocked)).toBe(true);
    expect(plain.tunnels.some((t) => t.upgradeBlocked)).toBe(false);
    console.log(
      `tunnels: site-1 ${plain.tunnels.length} (websocket), site-2 ${inspecting.tunnels.length} ` +
        `(${inspecting.tunnels.filter((t) => t.upgradeBlocked).length} websocket upgrades cut, long-polling)`,
    );
    expect(fs.readFileSync(logOf('site-1'), 'utf8')).toContain(
      `network: through proxy ${plain.url} (HTTP_PROXY), CONNECT tunnel`,
    );
    expect(fs.readFileSync(logOf('site-2'), 'utf8')).toContain(
      `network: through proxy ${inspecting.url} (--proxy/FEDSEG_PROXY), CONNECT tunnel`,
    );
    await Promise.all(agents.map((a) => stopAgent(a)));
  }, 240_000);

  it('says in one line what a refusing proxy answered (407, 403), and the site stays offline', async () => {
    const wantsCredentials = await proxy({
      refuse: { status: 407, reason: 'Proxy Authentication Required' },
    });
    const forbids = await proxy({ refuse: { status: 403, reason: 'Forbidden' } });
    const names = ['site-3', 'site-4'];
    await fed.enroll(names);
    const seenBefore = await fed.prisma.site.findMany({ where: { name: { in: names } } });
    const agents = [
      fed.spawn(
        'site-3',
        siteDirs[0]!,
        ['--backend', 'cpu', '--coordinator', behindProxy],
        proxyEnv(wantsCredentials.url),
      ),
      fed.spawn(
        'site-4',
        siteDirs[1]!,
        ['--backend', 'cpu', '--coordinator', behindProxy],
        proxyEnv(forbids.url),
      ),
    ];
    const target = `${HOST}:${new URL(fed.url).port}`;
    const line407 = await waitForLine(logOf('site-3'), /HTTP 407/, 90_000);
    expect(line407).toContain(
      `cannot connect to ${behindProxy}: proxy ${wantsCredentials.url} refused CONNECT ${target}: ` +
        'HTTP 407 Proxy Authentication Required (the proxy wants credentials',
    );
    const line403 = await waitForLine(logOf('site-4'), /HTTP 403/, 90_000);
    expect(line403).toContain(`proxy ${forbids.url} refused CONNECT ${target}: HTTP 403 Forbidden`);
    console.log(`${line407}\n${line403}`);
    await Promise.all(agents.map((a) => stopAgent(a)));

    // Nothing reached the coordinator: both sites offline, never seen since enrollment.
    const sites = SiteList.parse((await fed.get('/sites')).json).filter((s) => names.includes(s.name));
    expect(sites.map((s) => [s.name, s.online])).toEqual([
      ['site-3', false],
      ['site-4', false],
    ]);
    const seenAfter = await fed.prisma.site.findMany({ where: { name: { in: names } } });
    expect(seenAfter).toEqual(seenBefore);
    expect(wantsCredentials.tunnels.every((t) => t.status === 407)).toBe(true);
  }, 180_000);

  it('refuses a malformed proxy URL before connecting, naming the variable', async () => {
    const homes = await fed.enroll(['site-5']);
    const result = await runAgentCommand(
      ['run', '--home', homes['site-5']!, '--data', siteDirs[0]!, '--coordinator', behindProxy],
      { env: { ...proxyEnv(undefined), HTTP_PROXY: 'http://proxy.hospital.example:port' } },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'fedseg-agent run: HTTP_PROXY: "http://proxy.hospital.example:port" is not a proxy URL; expected http://host:port',
    );
    const site = await fed.prisma.site.findFirstOrThrow({ where: { name: 'site-5' } });
    expect(site.lastSeenAt).toBeNull();
  }, 60_000);
});

/**
 * An https:// coordinator behind the proxy: the agent's TLS runs inside the CONNECT tunnel, checked against the
 * coordinator's name (not the proxy's), for the websocket and the challenge alike. `fedseg-agent approve` opens
 * the same authenticated socket as `run`, without the compute thread.
 */
describe('an agent behind a proxy, coordinator on HTTPS', () => {
  let fed: Federation;
  let certDir: string;
  let proxy: ConnectProxy;

  beforeAll(async () => {
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-proxy-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${HOST}`,
        '-addext',
        `subjectAltName=DNS:${HOST},IP:127.0.0.1`,
        '-keyout',
        path.join(certDir, 'key.pem'),
        '-out',
        path.join(certDir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    fed = await startFederation({
      postgres: true,
      prefix: 'fedseg-e2e-proxy-tls',
      config: { tlsCertFile: path.join(certDir, 'cert.pem'), tlsKeyFile: path.join(certDir, 'key.pem') },
    });
    proxy = await startConnectProxy({ hosts: { [HOST]: '127.0.0.1' } });
  });

  afterAll(async () => {
    await fed?.close();
    await proxy?.close();
    fs.rmSync(certDir, { recursive: true, force: true });
  });

  it('approves a plan over WSS through the tunnel (HTTPS_PROXY)', async () => {
    const trust = { NODE_EXTRA_CA_CERTS: path.join(certDir, 'cert.pem') };
    // REST as the admin from a child process that trusts the test's certificate (this process does not).
    const post = async (pathname: string, body: unknown): Promise<unknown> => {
      const script = `fetch(${JSON.stringify(fed.url + pathname)}, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ${fed.adminToken}' }, body: ${JSON.stringify(JSON.stringify(body))} }).then((r) => r.text()).then((t) => process.stdout.write(t))`;
      const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
        env: { ...process.env, ...trust },
      });
      return JSON.parse(stdout);
    };
    const home = path.join(fed.work, 'agents', 'tls-site');
    const { token } = (await post('/enrollment-tokens', { siteName: 'tls-site' })) as { token: string };
    const enrolled = await runAgentCommand(
      ['enroll', '--coordinator', fed.url, '--token', token, '--site', 'tls-site', '--home', home],
      { env: trust },
    );
    expect(enrolled.code).toBe(0);
    const { id: studyId } = (await post('/studies', { name: 'tls via proxy', rounds: 1 })) as { id: string };

    const behindProxy = `https://${HOST}:${new URL(fed.url).port}`;
    const env = { ...trust, HTTPS_PROXY: proxy.url, https_proxy: proxy.url, NO_PROXY: '', no_proxy: '' };
    const approved = await runAgentCommand(
      ['approve', '--study', studyId, '--yes', '--home', home, '--coordinator', behindProxy],
      { env },
    );
    expect(approved.stderr).toBe('');
    expect(approved.code).toBe(0);
    expect(await fed.prisma.studyApproval.count({ where: { studyId } })).toBe(1);
    const target = `${HOST}:${new URL(fed.url).port}`;
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(2); // the socket and its challenge
    expect(proxy.tunnels.every((t) => t.target === target && t.status === 200)).toBe(true);
  }, 90_000);
});
