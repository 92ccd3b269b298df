import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runAgentCommand } from '@fedseg/coordinator';
import { startFederation, type Federation } from '../support/federation';

/**
 * TLS: with --tls-cert/--tls-key the coordinator serves HTTPS and WSS only. The test makes a self-signed
 * certificate with openssl; an agent that trusts it (NODE_EXTRA_CA_CERTS) enrolls and opens an authenticated
 * socket over WSS; plain HTTP gets nothing; a client that does not trust the certificate is refused.
 */
/** A POST from a child process that trusts the test's certificate (this process does not). */
async function fetchTrusting(
  env: NodeJS.ProcessEnv,
  url: string,
  token: string,
  body: unknown,
): Promise<unknown> {
  const script = `fetch(${JSON.stringify(url)}, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ${token}' }, body: ${JSON.stringify(JSON.stringify(body))} }).then((r) => r.text()).then((t) => process.stdout.write(t))`;
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout);
}

describe('a coordinator behind TLS', () => {
  let fed: Federation;
  let certDir: string;

  beforeAll(async () => {
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-tls-'));
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
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        path.join(certDir, 'key.pem'),
        '-out',
        path.join(certDir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    fed = await startFederation({
      postgres: false,
      config: { tlsCertFile: path.join(certDir, 'cert.pem'), tlsKeyFile: path.join(certDir, 'key.pem') },
    });
  });
  afterAll(async () => {
    await fed?.close();
    fs.rmSync(certDir, { recursive: true, force: true });
  });

  it('serves only HTTPS, and an agent that trusts the certificate enrolls and connects over WSS', async () => {
    expect(fed.url).toMatch(/^https:\/\//);
    await expect(fetch(fed.url.replace('https:', 'http:') + '/health')).rejects.toThrow();
    const env = { NODE_EXTRA_CA_CERTS: path.join(certDir, 'cert.pem') };
    // This test process does not trust the self-signed certificate: Node refuses the connection.
    await expect(
      fetch(`${fed.url}/enrollment-tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${fed.adminToken}` },
      }),
    ).rejects.toThrow(/fetch failed/);

    const home = path.join(fed.work, 'agents', 'tls-site');
    const untrusted = await runAgentCommand([
      'enroll',
      '--coordinator',
      fed.url,
      '--token',
      `fset_${'A'.repeat(43)}`,
      '--site',
      'tls-site',
      '--home',
      home,
    ]);
    expect(untrusted.code).not.toBe(0);
    expect(fs.existsSync(path.join(home, 'identity.json'))).toBe(false);

    const token = (
      (await fetchTrusting(env, `${fed.url}/enrollment-tokens`, fed.adminToken, {
        siteName: 'tls-site',
      })) as {
        token: string;
      }
    ).token;
    const enrolled = await runAgentCommand(
      ['enroll', '--coordinator', fed.url, '--token', token, '--site', 'tls-site', '--home', home],
      { env },
    );
    expect(enrolled.code).toBe(0);
    expect(enrolled.stdout).toMatch(/coordinator key fingerprint: ([0-9a-f]{2}:){15}[0-9a-f]{2}/);
    expect(fs.statSync(path.join(home, 'identity.json')).mode & 0o777).toBe(0o600);

    const studyId = (
      (await fetchTrusting(env, `${fed.url}/studies`, fed.adminToken, { name: 'tls', rounds: 1 })) as {
        id: string;
      }
    ).id;
    const approved = await runAgentCommand(['approve', '--study', studyId, '--yes', '--home', home], { env });
    expect(approved.stderr).toBe('');
    expect(approved.stdout).toMatch(/approved plan [0-9a-f]{16}/);
    expect(await fed.prisma.studyApproval.count({ where: { studyId } })).toBe(1);
  });
});
