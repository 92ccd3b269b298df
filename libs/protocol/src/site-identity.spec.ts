import { canonicalJson } from './canonical-json';
import {
  SignatureDomains,
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
