import crypto from 'node:crypto';
import {
  agreeSecret,
  ephemeralAgreementKeys,
  fromBase64,
  signMessage,
  SignatureDomains,
  toBase64,
  verifyMessage,
  type AdvertiseKeys,
  type EncryptedShare,
  type MaskingContext,
  type RevealedShare,
  type RosterEntry,
  type SecAggReply,
  type SignedSecAggReply,
  type UnmaskRequest,
} from '@fedseg/protocol';
import { AggregationError } from '../aggregation-error';
import {
  applyMask,
  newSelfMaskSeed,
  pairwiseMaskKey,
  selfMaskCommitment,
  selfMaskKey,
  type MaskContext,
} from './mask-stream';
import { encodeFixedPoint } from './ring64';
import { splitSecret } from './shamir';

/** A refused secure-aggregation request: the site answers with this error and reveals nothing. */
export class SecAggRefusedError extends AggregationError {
  constructor(message: string, code = 'SECAGG_REFUSED') {
    super(message, code);
  }
}

export interface SecAggSiteOptions extends MaskContext {
  siteId: string;
  threshold: number;
  signingSecretKey: string;
}

interface Keys {
  publicKey: string;
  secretKey: string;
}

function freshKeys(): Keys {
  const k = ephemeralAgreementKeys();
  return { publicKey: toBase64(k.publicKey), secretKey: toBase64(k.secretKey) };
}

/** Roster order decides each site's Shamir point: x = 1 + its index among the roster's site ids, sorted. */
export function sharePoints(siteIds: readonly string[]): Map<string, number> {
  return new Map([...siteIds].sort().map((id, i) => [id, i + 1]));
}

function shareInfo(ctx: MaskContext, from: string, to: string): string {
  return `fedseg/secagg/share/v1|${ctx.studyId}|${ctx.round}|${from}|${to}`;
}

/** The AEAD key for shares from `from` to `to`, from their cipher keys (the same at both ends). */
function shareKey(mySecret: string, theirPublic: string, ctx: MaskContext, from: string, to: string) {
  return new Uint8Array(
    crypto.hkdfSync(
      'sha256',
      agreeSecret(mySecret, theirPublic),
      new Uint8Array(0),
      shareInfo(ctx, from, to),
      32,
    ),
  );
}

const SHARE_BYTES = 32;

export function signSecAggReply(reply: SecAggReply, signingSecretKey: string): SignedSecAggReply {
  return { reply, signature: signMessage(SignatureDomains.secAggReply, reply, signingSecretKey) };
}

/**
 * One site's side of one round of secure aggregation (Bonawitz et al. 2017, semi-honest coordinator with
 * signed messages). Each step is idempotent: asked again (after a reconnect), it gives the same answer, never
 * fresh secrets. Secrets live only in this object, in memory: an agent restarted mid-round has dropped out.
 */
export class SecAggSite {
  private readonly cipherKeys = freshKeys();
  private readonly maskKeys = freshKeys();
  private readonly selfSeed = newSelfMaskSeed();
  private advertised?: SignedSecAggReply;
  private shared?: SignedSecAggReply;
  /** The roster as approved at the share step: site id -> its advertised keys. */
  private roster?: Map<string, AdvertiseKeys>;
  private maskers?: string[];
  /** Shares other sites gave this one, decrypted at masking: site id -> [mask key share, self-mask share]. */
  private received?: Map<string, [Uint8Array, Uint8Array]>;
  private unmasked?: { request: string; reply: SignedSecAggReply };

  constructor(private readonly options: SecAggSiteOptions) {}

  /** The threshold this site shared its secrets with. */
  get threshold(): number {
    return this.options.threshold;
  }

  get ctx(): MaskContext {
    return { studyId: this.options.studyId, round: this.options.round };
  }

  /** Phase 1: this round's two public keys, signed. */
  advertise(): SignedSecAggReply {
    this.advertised ??= signSecAggReply(
      {
        studyId: this.options.studyId,
        round: this.options.round,
        phase: 'advertise',
        siteId: this.options.siteId,
        cipherPublicKey: this.cipherKeys.publicKey,
        maskPublicKey: this.maskKeys.publicKey,
      },
      this.options.signingSecretKey,
    );
    return this.advertised;
  }

  private checkRoster(entries: readonly RosterEntry[], threshold: number): Map<string, AdvertiseKeys> {
    const { studyId, round, siteId } = this.options;
    if (threshold !== this.options.threshold)
      throw new SecAggRefusedError(`The study's threshold is ${this.options.threshold}, not ${threshold}.`);
    if (entries.length < threshold)
      throw new SecAggRefusedError(
        `The roster has ${entries.length} site(s), fewer than the threshold ${threshold}: masking could not be removed.`,
      );
    if (entries.length >= 2 * threshold)
      throw new SecAggRefusedError(
        `The roster has ${entries.length} sites for threshold ${threshold}: two disjoint groups of ${threshold} could each unmask; at most ${2 * threshold - 1} are allowed.`,
      );
    const roster = new Map<string, AdvertiseKeys>();
    const keysSeen = new Set<string>();
    for (const entry of entries) {
      const keys = entry.keys;
      if (keys.studyId !== studyId || keys.round !== round)
        throw new SecAggRefusedError(`A roster entry is for another study or round (site ${keys.siteId}).`);
      if (!verifyMessage(SignatureDomains.secAggReply, keys, entry.signature, entry.signingPublicKey))
        throw new SecAggRefusedError(`The keys of site ${keys.siteId} are not signed by that site.`);
      if (roster.has(keys.siteId))
        throw new SecAggRefusedError(`Site ${keys.siteId} appears twice in the roster.`);
      for (const k of [keys.cipherPublicKey, keys.maskPublicKey]) {
        if (keysSeen.has(k)) throw new SecAggRefusedError('Two roster entries share a public key.');
        keysSeen.add(k);
      }
      roster.set(keys.siteId, keys);
    }
    const own = roster.get(siteId);
    if (
      !own ||
      own.cipherPublicKey !== this.cipherKeys.publicKey ||
      own.maskPublicKey !== this.maskKeys.publicKey
    )
      throw new SecAggRefusedError("The roster does not carry this site's own keys for the round.");
    return roster;
  }

  /** Phase 2: Shamir shares of the mask secret key and of the self-mask seed, encrypted for each roster site. */
  share(request: { roster: readonly RosterEntry[]; threshold: number }): SignedSecAggReply {
    if (!this.advertised) throw new SecAggRefusedError('This site has not advertised keys for this round.');
    const roster = this.checkRoster(request.roster, request.threshold);
    if (this.shared) {
      if (!sameKeys(roster, this.roster!))
        throw new SecAggRefusedError('A different roster was already answered for this round.');
      return this.shared;
    }
    const { siteId, threshold } = this.options;
    const points = sharePoints([...roster.keys()]);
    const ids = [...points.keys()];
    const xs = ids.map((id) => points.get(id)!);
    const keyShares = splitSecret(fromBase64(this.maskKeys.secretKey), xs, threshold);
    const seedShares = splitSecret(this.selfSeed, xs, threshold);
    const shares: EncryptedShare[] = ids.map((to, i) => {
      const key = shareKey(this.cipherKeys.secretKey, roster.get(to)!.cipherPublicKey, this.ctx, siteId, to);
      const nonce = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      cipher.setAAD(Buffer.from(shareInfo(this.ctx, siteId, to)), { plaintextLength: 2 * SHARE_BYTES });
      const body = Buffer.concat([
        cipher.update(keyShares[i]!.y),
        cipher.update(seedShares[i]!.y),
        cipher.final(),
        cipher.getAuthTag(),
      ]);
      return { from: siteId, to, nonce: nonce.toString('base64'), ciphertext: body.toString('base64') };
    });
    this.roster = roster;
    this.shared = signSecAggReply(
      {
        studyId: this.options.studyId,
        round: this.options.round,
        phase: 'share',
        siteId,
        selfMaskCommitment: selfMaskCommitment(this.selfSeed, this.ctx, siteId),
        shares,
      },
      this.options.signingSecretKey,
    );
    return this.shared;
  }

  private decryptShare(share: EncryptedShare): [Uint8Array, Uint8Array] {
    const sender = this.roster!.get(share.from)!;
    const key = shareKey(this.cipherKeys.secretKey, sender.cipherPublicKey, this.ctx, share.from, share.to);
    const body = Buffer.from(share.ciphertext, 'base64');
    if (body.length !== 2 * SHARE_BYTES + 16)
      throw new SecAggRefusedError(`The share from site ${share.from} has the wrong length.`);
    const decipher = crypto.createDecipheriv('chacha20-poly1305', key, Buffer.from(share.nonce, 'base64'), {
      authTagLength: 16,
    });
    decipher.setAAD(Buffer.from(shareInfo(this.ctx, share.from, share.to)), {
      plaintextLength: 2 * SHARE_BYTES,
    });
    decipher.setAuthTag(body.subarray(2 * SHARE_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(body.subarray(0, 2 * SHARE_BYTES)), decipher.final()]);
    } catch {
      throw new SecAggRefusedError(
        `The share from site ${share.from} does not decrypt: tampered or misaddressed.`,
      );
    }
    return [new Uint8Array(plain.subarray(0, SHARE_BYTES)), new Uint8Array(plain.subarray(SHARE_BYTES))];
  }

  /**
   * Phase 3: y = weight * delta + PRG(self seed) + sum over the other maskers v of +-PRG(s_uv), in Z_2^64;
   * + when this site's id sorts before v's, - after, so each pair cancels in the sum.
   */
  mask(context: MaskingContext, delta: ArrayLike<number>, weight: number): Uint32Array {
    if (!this.roster)
      throw new SecAggRefusedError('This site did not take part in the share phase of this round.');
    const { siteId } = this.options;
    const maskers = [...new Set(context.maskers)].sort();
    if (maskers.length !== context.maskers.length)
      throw new SecAggRefusedError('The maskers list repeats a site.');
    if (!maskers.includes(siteId))
      throw new SecAggRefusedError("This site is not among the round's maskers.");
    if (maskers.length < this.options.threshold)
      throw new SecAggRefusedError(`Only ${maskers.length} maskers for threshold ${this.options.threshold}.`);
    for (const v of maskers)
      if (!this.roster.has(v))
        throw new SecAggRefusedError(`Masker ${v} was not in the roster this site shared with.`);
    if (this.maskers && this.maskers.join() !== maskers.join())
      throw new SecAggRefusedError('A different set of maskers was already used for this round.');
    const received = new Map<string, [Uint8Array, Uint8Array]>();
    for (const share of context.incoming) {
      if (share.to !== siteId || !maskers.includes(share.from) || received.has(share.from))
        throw new SecAggRefusedError(`Unexpected share from site ${share.from} to ${share.to}.`);
      received.set(share.from, this.decryptShare(share));
    }
    const missing = maskers.filter((v) => !received.has(v));
    if (missing.length > 0)
      throw new SecAggRefusedError(
        `No share from masker(s) ${missing.join(', ')}: the round cannot be unmasked safely.`,
      );
    this.maskers = maskers;
    this.received = received;
    const y = encodeFixedPoint(delta, weight);
    applyMask(y, selfMaskKey(this.selfSeed, this.ctx, siteId), 1);
    for (const v of maskers) {
      if (v === siteId) continue;
      const shared = agreeSecret(this.maskKeys.secretKey, this.roster.get(v)!.maskPublicKey);
      applyMask(y, pairwiseMaskKey(shared, this.ctx, siteId, v), siteId < v ? 1 : -1);
    }
    return y;
  }

  /**
   * Phase 4: for each survivor, its self-mask seed share; for each dropped masker, its mask key share. A
   * request that names one site both ways (or differs from one already answered) is refused: both shares of
   * one site would let the coordinator unmask that site's update.
   */
  unmask(request: Pick<UnmaskRequest, 'survivors' | 'dropped'>): SignedSecAggReply {
    const { siteId, threshold } = this.options;
    if (!this.maskers || !this.received)
      throw new SecAggRefusedError('This site sent no masked update this round; it has nothing to unmask.');
    const survivors = [...new Set(request.survivors)].sort();
    const dropped = [...new Set(request.dropped)].sort();
    const both = survivors.filter((id) => dropped.includes(id));
    if (both.length > 0)
      throw new SecAggRefusedError(
        `The unmask request asks for both the self-mask and the mask-key share of site(s) ${both.join(', ')}; that would reveal their updates. Refused.`,
        'SECAGG_BOTH_SHARES',
      );
    const key = JSON.stringify({ survivors, dropped });
    if (this.unmasked) {
      if (this.unmasked.request !== key)
        throw new SecAggRefusedError(
          'A different unmask request was already answered for this round; answering another could reveal both shares of a site. Refused.',
          'SECAGG_BOTH_SHARES',
        );
      return this.unmasked.reply;
    }
    if (survivors.length !== request.survivors.length || dropped.length !== request.dropped.length)
      throw new SecAggRefusedError('The unmask request repeats a site.');
    if ([...survivors, ...dropped].sort().join() !== this.maskers.join())
      throw new SecAggRefusedError(
        "Survivors and dropped sites together must be exactly this round's maskers.",
      );
    if (!survivors.includes(siteId))
      throw new SecAggRefusedError('This site is listed as dropped, yet it was asked to unmask.');
    if (survivors.length < threshold)
      throw new SecAggRefusedError(
        `${survivors.length} survivor(s) are fewer than the threshold ${threshold}.`,
      );
    const reveal = (ids: string[], which: 0 | 1): RevealedShare[] =>
      ids.map((of) => ({ of, share: toBase64(this.received!.get(of)![which]) }));
    const reply = signSecAggReply(
      {
        studyId: this.options.studyId,
        round: this.options.round,
        phase: 'unmask',
        siteId,
        selfMaskShares: reveal(survivors, 1),
        maskKeyShares: reveal(dropped, 0),
      },
      this.options.signingSecretKey,
    );
    this.unmasked = { request: key, reply };
    return reply;
  }
}

function sameKeys(a: Map<string, AdvertiseKeys>, b: Map<string, AdvertiseKeys>): boolean {
  if (a.size !== b.size) return false;
  for (const [id, k] of a) {
    const o = b.get(id);
    if (!o || o.cipherPublicKey !== k.cipherPublicKey || o.maskPublicKey !== k.maskPublicKey) return false;
  }
  return true;
}
