import { canonicalJson } from './canonical-json';
import {
  SignatureDomains,
  agreeSecret,
  generateIdentity,
  keyFingerprint,
  publicPart,
  signMessage,
  verifyMessage,
} from './site-identity';

describe('canonical JSON', () => {
  it('writes keys sorted at every depth, without whitespace, leaving out undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x', null], c: true }, u: undefined })).toBe(
      '{"a":{"c":true,"d":[1,"x",null]},"b":1}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/non-finite/);
  });
});

describe('site identities', () => {
  const id = generateIdentity();

  it('signs and verifies, and a signature for one domain does not verify for another', () => {
    const msg = { studyId: 'x', round: 1 };
    const sig = signMessage(SignatureDomains.task, msg, id.signingSecretKey);
    expect(verifyMessage(SignatureDomains.task, msg, sig, id.signingPublicKey)).toBe(true);
    expect(verifyMessage(SignatureDomains.updateHeader, msg, sig, id.signingPublicKey)).toBe(false);
    expect(verifyMessage(SignatureDomains.task, { ...msg, round: 2 }, sig, id.signingPublicKey)).toBe(false);
    expect(verifyMessage(SignatureDomains.task, msg, sig, generateIdentity().signingPublicKey)).toBe(false);
  });

  it('verifies whatever the key order of the signed object', () => {
    const sig = signMessage(SignatureDomains.task, { a: 1, b: 2 }, id.signingSecretKey);
    expect(verifyMessage(SignatureDomains.task, { b: 2, a: 1 }, sig, id.signingPublicKey)).toBe(true);
  });

  it('answers false, never throws, for signatures and keys of the wrong length', () => {
    expect(verifyMessage(SignatureDomains.task, {}, 'AAAA', id.signingPublicKey)).toBe(false);
    expect(
      verifyMessage(
        SignatureDomains.task,
        {},
        signMessage(SignatureDomains.task, {}, id.signingSecretKey),
        'AAAA',
      ),
    ).toBe(false);
  });

  it('fingerprints the public keys as 16 colon-separated hex bytes, differently for different keys', () => {
    const fp = keyFingerprint(publicPart(id));
    expect(fp).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    expect(keyFingerprint(publicPart(generateIdentity()))).not.toBe(fp);
  });
});

describe('interoperability with tweetnacl (an independent Ed25519 / X25519 implementation)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nacl = require('tweetnacl') as typeof import('tweetnacl');
  const id = generateIdentity();
  const bytesOf = (domain: string, payload: unknown) =>
    new TextEncoder().encode(`${domain}\n${canonicalJson(payload)}`);

  it('makes exactly the signature tweetnacl makes, and each verifies the other', () => {
    const payload = { round: 3, studyId: 'x' };
    const ours = signMessage(SignatureDomains.task, payload, id.signingSecretKey);
    const theirs = nacl.sign.detached(
      bytesOf(SignatureDomains.task, payload),
      Buffer.from(id.signingSecretKey, 'base64'),
    );
    expect(ours).toBe(Buffer.from(theirs).toString('base64'));
    expect(
      nacl.sign.detached.verify(
        bytesOf(SignatureDomains.task, payload),
        Buffer.from(ours, 'base64'),
        Buffer.from(id.signingPublicKey, 'base64'),
      ),
    ).toBe(true);
    expect(
      verifyMessage(
        SignatureDomains.task,
        payload,
        Buffer.from(theirs).toString('base64'),
        id.signingPublicKey,
      ),
    ).toBe(true);
  });

  it('agrees on the same X25519 secret as tweetnacl, from both ends', () => {
    const other = generateIdentity();
    const ours = agreeSecret(id.agreementSecretKey, other.agreementPublicKey);
    const theirs = nacl.scalarMult(
      Buffer.from(other.agreementSecretKey, 'base64'),
      Buffer.from(id.agreementPublicKey, 'base64'),
    );
    expect(Buffer.from(ours).equals(Buffer.from(theirs))).toBe(true);
  });

  it('refuses a low-order agreement key', () => {
    expect(() => agreeSecret(id.agreementSecretKey, Buffer.alloc(32).toString('base64'))).toThrow(
      /agreement key/,
    );
  });
});
