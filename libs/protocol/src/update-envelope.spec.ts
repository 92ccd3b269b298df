import crypto from 'node:crypto';
import { EnvelopeError, UpdateOpener, UpdateSealer, sealUpdate, type SealedUpdate } from './update-envelope';
import { generateIdentity, toBase64 } from './site-identity';

const coordinator = generateIdentity();
const site = generateIdentity();
const fields = {
  taskId: '8f0c3c4e-8d9b-4c1a-9c55-0a1b2c3d4e5f',
  studyId: '1f0c3c4e-8d9b-4c1a-9c55-0a1b2c3d4e5f',
  round: 3,
  siteId: '2f0c3c4e-8d9b-4c1a-9c55-0a1b2c3d4e5f',
  samples: 7,
  trainLoss: 0.25,
  steps: 12,
  codec: 'none',
};
const keys = {
  coordinatorAgreementPublicKey: coordinator.agreementPublicKey,
  siteSigningSecretKey: site.signingSecretKey,
};
const openerKeys = {
  siteSigningPublicKey: site.signingPublicKey,
  coordinatorAgreementSecretKey: coordinator.agreementSecretKey,
};

function open(sealed: SealedUpdate, chunks = sealed.chunks): Uint8Array {
  const opener = new UpdateOpener(sealed.begin, openerKeys);
  chunks.forEach((c, i) => opener.addChunk(i, c));
  return opener.finish();
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof EnvelopeError) return err.code;
    throw err;
  }
  return 'no error';
}

describe('the update envelope', () => {
  const payload = new Uint8Array(crypto.randomBytes(5000));

  it('opens what it sealed, across several chunks, byte for byte', () => {
    const sealed = sealUpdate(fields, payload, keys, 1024);
    expect(sealed.chunks).toHaveLength(5);
    expect(sealed.begin.header.chunks).toBe(5);
    expect(Buffer.from(open(sealed)).equals(Buffer.from(payload))).toBe(true);
  });

  it('carries no plaintext: the sealed chunks do not contain the payload bytes', () => {
    const text = new TextEncoder().encode('patient-0042 liver '.repeat(100));
    const sealed = sealUpdate(fields, text, keys, 1024);
    const wire = Buffer.concat(sealed.chunks);
    expect(wire.includes(Buffer.from('patient-0042'))).toBe(false);
  });

  it('refuses a flipped bit anywhere in a chunk', () => {
    const sealed = sealUpdate(fields, payload, keys, 1024);
    for (const at of [0, 11, 12, 500, sealed.chunks[1]!.length - 1]) {
      const bad = sealed.chunks.map((c) => new Uint8Array(c));
      bad[1]![at]! ^= 0x01;
      expect(code(() => open(sealed, bad))).toBe('DECRYPT_FAILED');
    }
  });

  it('refuses a flipped bit in the header signature and any edited header field', () => {
    const sealed = sealUpdate(fields, payload, keys, 1024);
    const sig = Buffer.from(sealed.begin.signature, 'base64');
    sig[5]! ^= 0x80;
    expect(
      code(() => new UpdateOpener({ ...sealed.begin, signature: sig.toString('base64') }, openerKeys)),
    ).toBe('BAD_SIGNATURE');
    for (const edit of [
      { round: 4 },
      { samples: 70 },
      { siteId: fields.taskId },
      { studyId: fields.taskId },
    ]) {
      const header = { ...sealed.begin.header, ...edit };
      expect(code(() => new UpdateOpener({ header, signature: sealed.begin.signature }, openerKeys))).toBe(
        'BAD_SIGNATURE',
      );
    }
  });

  it('refuses a header signed by another key', () => {
    const sealed = sealUpdate(fields, payload, {
      ...keys,
      siteSigningSecretKey: generateIdentity().signingSecretKey,
    });
    expect(code(() => new UpdateOpener(sealed.begin, openerKeys))).toBe('BAD_SIGNATURE');
  });

  it('refuses truncated chunks, missing chunks, duplicate chunks and out-of-range indices', () => {
    const sealed = sealUpdate(fields, payload, keys, 1024);
    expect(code(() => open(sealed, [...sealed.chunks.slice(0, 4), sealed.chunks[4]!.subarray(0, 10)]))).toBe(
      'TRUNCATED_CHUNK',
    );
    expect(code(() => open(sealed, sealed.chunks.slice(0, 4)))).toBe('TRUNCATED_UPDATE');
    const opener = new UpdateOpener(sealed.begin, openerKeys);
    opener.addChunk(0, sealed.chunks[0]!);
    expect(code(() => opener.addChunk(0, sealed.chunks[0]!))).toBe('DUPLICATE_CHUNK');
    expect(code(() => opener.addChunk(9, sealed.chunks[0]!))).toBe('BAD_CHUNK');
  });

  it('refuses chunks moved between positions or between updates', () => {
    const a = sealUpdate(fields, payload, keys, 1024);
    const b = sealUpdate(fields, payload, keys, 1024);
    const swapped = [a.chunks[1]!, a.chunks[0]!, ...a.chunks.slice(2)];
    expect(code(() => open(a, swapped))).toBe('DECRYPT_FAILED');
    expect(code(() => open(a, [b.chunks[0]!, ...a.chunks.slice(1)]))).toBe('DECRYPT_FAILED');
  });

  it('cannot be opened with another coordinator key', () => {
    const sealed = sealUpdate(fields, payload, keys, 1024);
    const other = { ...openerKeys, coordinatorAgreementSecretKey: generateIdentity().agreementSecretKey };
    const opener = new UpdateOpener(sealed.begin, other);
    expect(code(() => opener.addChunk(0, sealed.chunks[0]!))).toBe('DECRYPT_FAILED');
  });

  it('draws every nonce from the CSPRNG: 500 sealings never repeat a header, chunk or ephemeral key', () => {
    const headerNonces = new Set<string>();
    const chunkNonces = new Set<string>();
    const ephemeral = new Set<string>();
    const small = new Uint8Array(3000);
    for (let i = 0; i < 500; i++) {
      const s = sealUpdate(fields, small, keys, 1024);
      headerNonces.add(s.begin.header.nonce);
      ephemeral.add(s.begin.header.ephemeralPublicKey);
      for (const c of s.chunks) chunkNonces.add(toBase64(c.subarray(0, 12)));
    }
    expect(headerNonces.size).toBe(500);
    expect(ephemeral.size).toBe(500);
    expect(chunkNonces.size).toBe(1500);
  });
});

describe('an update sealed chunk by chunk (resumable)', () => {
  const payload = new Uint8Array(crypto.randomBytes(4500));

  it('keeps its header across re-sends, each re-sent chunk a new ciphertext that still opens to the same bytes', () => {
    const sealer = new UpdateSealer(fields, payload, keys, 1024);
    const opener = new UpdateOpener(sealer.begin, openerKeys);
    const first = sealer.seal(2);
    const again = sealer.seal(2);
    expect(Buffer.from(first).equals(Buffer.from(again))).toBe(false);
    const a = opener.open(2, first);
    const b = opener.open(2, again);
    expect(Buffer.from(a).equals(Buffer.from(payload.subarray(2048, 3072)))).toBe(true);
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    expect(code(() => opener.open(2, first))).toBe('NONCE_REUSED');
  });

  it('refuses an out-of-range chunk and a digest that is not the signed one', () => {
    const sealer = new UpdateSealer(fields, payload, keys, 1024);
    const opener = new UpdateOpener(sealer.begin, openerKeys);
    expect(code(() => sealer.seal(5))).toBe('BAD_CHUNK');
    expect(code(() => opener.open(5, sealer.seal(4)))).toBe('BAD_CHUNK');
    expect(code(() => opener.checkDigest('0'.repeat(64)))).toBe('DIGEST_MISMATCH');
    const whole = crypto.createHash('sha256').update(payload).digest('hex');
    expect(() => opener.checkDigest(whole)).not.toThrow();
  });
});
