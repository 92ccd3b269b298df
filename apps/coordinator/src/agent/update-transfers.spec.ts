import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FedsegError, UpdateOpener, UpdateSealer, generateIdentity } from '@fedseg/protocol';
import { FileBlobStore } from '../storage/blob-store';
import { UpdateTransfers } from './update-transfers';

const coordinator = generateIdentity();
const site = generateIdentity();
const SITE_ID = '2f0c3c4e-8d9b-4c1a-9c55-0a1b2c3d4e5f';
const fields = {
  taskId: '8f0c3c4e-8d9b-4c1a-9c55-0a1b2c3d4e5f',
  studyId: '1f0c3c4e-8d9b-4c1a-9c55-0a1b2c3d4e5f',
  round: 1,
  siteId: SITE_ID,
  samples: 3,
  trainLoss: 0.5,
  steps: 2,
  codec: 'none',
};

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FedsegError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('update transfers held for resumption', () => {
  const payload = new Uint8Array(crypto.randomBytes(10 * 1024 + 300));
  let dir: string;
  let transfers: UpdateTransfers<string>;
  let sealer: UpdateSealer;
  const opener = () =>
    new UpdateOpener(sealer.begin, {
      siteSigningPublicKey: site.signingPublicKey,
      coordinatorAgreementSecretKey: coordinator.agreementSecretKey,
    });
  const nonce = () => sealer.begin.header.nonce;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-transfers-'));
    transfers = new UpdateTransfers<string>(new FileBlobStore(dir));
    sealer = new UpdateSealer(
      fields,
      payload,
      {
        coordinatorAgreementPublicKey: coordinator.agreementPublicKey,
        siteSigningSecretKey: site.signingSecretKey,
      },
      1024,
    );
  });
  afterEach(async () => {
    await transfers.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('resumes on a new connection from the stored prefix and yields the exact plaintext once', async () => {
    expect(await transfers.begin(SITE_ID, 'conn-1', opener(), 'precheck')).toEqual({ resumeFrom: 0 });
    for (const i of [0, 1, 2, 4]) await transfers.chunk('conn-1', nonce(), i, sealer.seal(i));
    // The connection drops; the site comes back with the same signed header.
    expect(await transfers.begin(SITE_ID, 'conn-2', opener(), 'precheck again')).toEqual({ resumeFrom: 3 });
    expect(await code(transfers.chunk('conn-1', nonce(), 3, sealer.seal(3)))).toBe('TRANSFER_NOT_FOUND');
    let outcome;
    for (let i = 3; i < sealer.chunks; i++)
      outcome = await transfers.chunk('conn-2', nonce(), i, sealer.seal(i));
    expect(outcome?.done).toBe(true);
    expect(Buffer.from(outcome!.done ? outcome!.plaintext : []).equals(Buffer.from(payload))).toBe(true);
    // The digest it checked, and what the latest precheck (of the resuming connection) admitted.
    expect(outcome).toMatchObject({
      sha256: crypto.createHash('sha256').update(payload).digest('hex'),
      admitted: 'precheck again',
    });
    expect(transfers.size).toBe(0);
    expect(fs.readdirSync(path.join(dir, 'transfers', 'updates'))).toEqual([]); // the partial blob is gone
  });

  it('refuses a duplicate and an out-of-range chunk, keeping the transfer exactly as it was', async () => {
    await transfers.begin(SITE_ID, 'conn-1', opener(), 'precheck');
    await transfers.chunk('conn-1', nonce(), 0, sealer.seal(0));
    expect(await code(transfers.chunk('conn-1', nonce(), 0, sealer.seal(0)))).toBe('DUPLICATE_CHUNK');
    expect(await code(transfers.chunk('conn-1', nonce(), sealer.chunks, sealer.seal(0)))).toBe('BAD_CHUNK');
    expect(await code(transfers.chunk('conn-1', nonce(), -1, sealer.seal(0)))).toBe('BAD_CHUNK');
    expect(transfers.size).toBe(1);
    expect(await transfers.begin(SITE_ID, 'conn-2', opener(), 'precheck')).toEqual({ resumeFrom: 1 });
  });

  it('refuses a second begin on the same connection, another site resuming it, and a tampered chunk ends it', async () => {
    await transfers.begin(SITE_ID, 'conn-1', opener(), 'precheck');
    expect(await code(transfers.begin(SITE_ID, 'conn-1', opener(), 'precheck'))).toBe('NONCE_REUSED');
    expect(await code(transfers.begin('another-site', 'conn-9', opener(), 'precheck'))).toBe('NONCE_REUSED');
    const bad = sealer.seal(0);
    bad[20]! ^= 1;
    expect(await code(transfers.chunk('conn-1', nonce(), 0, bad))).toBe('DECRYPT_FAILED');
    expect(transfers.size).toBe(0);
  });

  it('holds at most the configured transfers per site, and drops idle ones with their bytes', async () => {
    let now = 0;
    const limited = new UpdateTransfers<string>(
      new FileBlobStore(dir),
      { maxTransfers: 10, maxPerSite: 1, maxBytes: 1e9, idleMs: 1_000 },
      () => now,
    );
    await limited.begin(SITE_ID, 'conn-1', opener(), 'precheck');
    const other = new UpdateSealer(
      fields,
      payload,
      {
        coordinatorAgreementPublicKey: coordinator.agreementPublicKey,
        siteSigningSecretKey: site.signingSecretKey,
      },
      1024,
    );
    const otherOpener = () =>
      new UpdateOpener(other.begin, {
        siteSigningPublicKey: site.signingPublicKey,
        coordinatorAgreementSecretKey: coordinator.agreementSecretKey,
      });
    expect(await code(limited.begin(SITE_ID, 'conn-1', otherOpener(), 'precheck'))).toBe(
      'TOO_MANY_TRANSFERS',
    );
    now = 5_000;
    expect(await limited.begin(SITE_ID, 'conn-1', otherOpener(), 'precheck')).toEqual({ resumeFrom: 0 });
    expect(limited.size).toBe(1);
    expect(fs.readdirSync(path.join(dir, 'transfers', 'updates'))).toHaveLength(1);
    await limited.close();
  });
});
