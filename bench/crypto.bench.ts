/**
 * `npm run bench -- crypto [--quick] [--params=85000,5600000] [--secagg-params=1000000,5600000]
 *   [--secagg-sites=5,20] [--repeats=3]`
 *
 * The primitives of the trust work (DESIGN.md, "Trust") measured on update-sized inputs, and fedseg's own
 * update envelope (libs/protocol/src/update-envelope.ts: signed header, per-update key, sealed chunks) next to
 * the raw node:crypto AEAD it is built on, and whole rounds of secure aggregation.
 *
 * Workload (../shared/BENCHMARKS.md), for updates of P float32 parameters (default 85k = bench-unet3d,
 * 0.34 MB, and 5.6M = the GPU default, 22 MB):
 * - seal / open one update: X25519 key agreement (`nacl.box.before`) then XSalsa20-Poly1305
 *   (`nacl.secretbox` / `nacl.secretbox.open`); the agreement is timed inside seal and open and also alone.
 * - sign / verify (Ed25519, `nacl.sign.detached`) over the update's sha256 (hash time included) and over
 *   the whole update.
 * - secure aggregation (libs/aggregation/src/secure), one whole round of the real protocol for N sites
 *   (threshold a majority): per-site masking (Shamir shares of two 32-byte secrets, N ChaCha20 masks of P
 *   64-bit ring elements) and the coordinator's unmasking, with no dropout and with one site dropped after
 *   the key exchange. The run checks that the unmasked sum equals the survivors' weighted sum.
 * Peer, in the same run on the same bytes: node:crypto (OpenSSL) AEAD `aes-256-gcm` and
 * `chacha20-poly1305`, Ed25519 `crypto.sign` / `crypto.verify`, X25519 `crypto.diffieHellman`, and for the
 * Figure: MB/s of update bytes and the ratio of tweetnacl's time to node:crypto's.
 * Medians of --repeats runs after one untimed warm-up. Prints a table, then one JSON line.
 */
import crypto from 'node:crypto';
import nacl from 'tweetnacl';
import { simulateSecureAggregation } from '@fedseg/aggregation';
import { UpdateOpener, generateIdentity, sealUpdate } from '@fedseg/protocol';
import { fmt, median, printTable } from './bench-util';

interface Args {
  params: number[];
  /** Secure aggregation: update sizes and numbers of sites of the simulated rounds. */
  secaggParams: number[];
  secaggSites: number[];
  repeats: number;
  quick: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (name: string, fallback: string): string =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
  const quick = argv.includes('--quick');
  const list = (s: string): number[] => s.split(',').map(Number);
  const args = {
    // --quick: the small update only, so the whole run takes seconds.
    params: list(get('params', quick ? '85000' : '85000,5600000')),
    secaggParams: list(get('secagg-params', quick ? '85000' : '1000000,5600000')),
    secaggSites: list(get('secagg-sites', quick ? '5' : '5,20')),
    repeats: Number(get('repeats', '3')),
    quick,
  };
  const ok = (xs: number[], min: number) => xs.length > 0 && xs.every((x) => Number.isInteger(x) && x >= min);
  if (!(
    ok(args.params, 1) &&
    ok(args.secaggParams, 1) &&
    ok(args.secaggSites, 3) &&
    Math.max(...args.secaggSites) <= 255 &&
    Number.isInteger(args.repeats) &&
    args.repeats >= 1
  )) {
    throw new Error(
      'usage: crypto [--quick] [--params=P1,P2] [--secagg-params=P1,P2] [--secagg-sites=N1,N2 (3..255)] [--repeats=R]',
    );
  }
  return args;
}

function makeUpdate(p: number, seed: number): Float32Array {
  const v = new Float32Array(p);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < p; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[i] = 0.02 * ((x >>> 0) / 4294967296 - 0.5);
  }
  return v;
}

/** Median ms of `repeats` timed runs after one untimed warm-up (JIT, page faults of fresh outputs). */
function timeMs(fn: () => void, repeats: number): { ms: number; runsMs: number[] } {
  fn();
  const runsMs: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    fn();
    runsMs.push(performance.now() - t);
  }
  return { ms: median(runsMs), runsMs };
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`crypto bench: ${what}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    a.length === b.length &&
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.length),
      Buffer.from(b.buffer, b.byteOffset, b.length),
    ) === 0
  );
}

interface Row {
  op: string;
  params: number;
  peers: number | null;
  engine: string;
  ms: number;
  mbPerS: number;
  /** Masking only: pairwise keystream generated per second ((N-1) masks of P words). */
  keystreamMbPerS: number | null;
  /** This row's time / the group's node:crypto reference time (null on the reference rows themselves). */
  xNode: number | null;
  runsMs: number[];
}

export async function run(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  const started = performance.now();
  const rows: Row[] = [];
  const add = (
    op: string,
    params: number,
    peers: number | null,
    engine: string,
    t: { ms: number; runsMs: number[] },
    bytes: number,
    refMs: number | null,
  ): number => {
    const keystreamMbPerS = peers === null ? null : ((peers - 1) * bytes) / 1e6 / (t.ms / 1000);
    rows.push({
      op,
      params,
      peers,
      engine,
      ms: t.ms,
      mbPerS: bytes / 1e6 / (t.ms / 1000),
      keystreamMbPerS,
      xNode: refMs === null ? null : t.ms / refMs,
      runsMs: t.runsMs,
    });
    return t.ms;
  };

  // Keys: X25519 for the pairwise agreements, Ed25519 for signatures, in both libraries.
  const alice = nacl.box.keyPair();
  const bob = nacl.box.keyPair();
  const signer = nacl.sign.keyPair();
  const nodeX = { a: crypto.generateKeyPairSync('x25519'), b: crypto.generateKeyPairSync('x25519') };
  const nodeEd = crypto.generateKeyPairSync('ed25519');

  // Key agreement alone (per pair, independent of P): many runs, since one takes well under a millisecond.
  const agreements = 50;
  const nodeAgree = timeMs(() => {
    for (let i = 0; i < agreements; i++)
      crypto.diffieHellman({ privateKey: nodeX.a.privateKey, publicKey: nodeX.b.publicKey });
  }, args.repeats);
  const naclAgree = timeMs(() => {
    for (let i = 0; i < agreements; i++) nacl.box.before(bob.publicKey, alice.secretKey);
  }, args.repeats);
  const agreeRow = (engine: string, t: { ms: number; runsMs: number[] }, refMs: number | null) =>
    rows.push({
      op: 'x25519 agreement',
      params: 0,
      peers: null,
      engine,
      ms: t.ms / agreements,
      mbPerS: NaN,
      keystreamMbPerS: null,
      xNode: refMs === null ? null : t.ms / refMs,
      runsMs: t.runsMs.map((m) => m / agreements),
    });
  agreeRow('node:crypto', nodeAgree, null);
  agreeRow('tweetnacl', naclAgree, nodeAgree.ms);

  let secureSumExact: boolean | null = null;
  for (const p of args.params) {
    const update = makeUpdate(p, p);
    const bytes = new Uint8Array(update.buffer);
    const n = bytes.length;

    // Seal / open. The nonce is fixed here; a real envelope derives it from (study, round, site).
    const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
    const iv = crypto.randomBytes(12);
    let sealed: Uint8Array = new Uint8Array(0);
    const aead = (alg: 'aes-256-gcm' | 'chacha20-poly1305') => {
      let ct = Buffer.alloc(0);
      let tag = Buffer.alloc(0);
      // The agreement is inside the timing on both sides, like nacl.box.before below. Its raw output
      // serves as the key here; a real envelope would pass it through HKDF (microseconds).
      const seal = timeMs(() => {
        const k = crypto.diffieHellman({ privateKey: nodeX.a.privateKey, publicKey: nodeX.b.publicKey });
        // Both algorithms default to a 16-byte tag; the literal algorithm picks the typed overload.
        const c =
          alg === 'aes-256-gcm' ? crypto.createCipheriv(alg, k, iv) : crypto.createCipheriv(alg, k, iv);
        ct = Buffer.concat([c.update(bytes), c.final()]);
        tag = c.getAuthTag();
      }, args.repeats);
      let plain = Buffer.alloc(0);
      const open = timeMs(() => {
        const k = crypto.diffieHellman({ privateKey: nodeX.b.privateKey, publicKey: nodeX.a.publicKey });
        const d =
          alg === 'aes-256-gcm' ? crypto.createDecipheriv(alg, k, iv) : crypto.createDecipheriv(alg, k, iv);
        d.setAuthTag(tag);
        plain = Buffer.concat([d.update(ct), d.final()]);
      }, args.repeats);
      check(sameBytes(plain, bytes), `${alg} did not round-trip`);
      return { seal, open };
    };
    const gcm = aead('aes-256-gcm');
    const chacha = aead('chacha20-poly1305');
    const naclSeal = timeMs(() => {
      sealed = nacl.secretbox(bytes, nonce, nacl.box.before(bob.publicKey, alice.secretKey));
    }, args.repeats);
    let opened: Uint8Array | null = null;
    const naclOpen = timeMs(() => {
      opened = nacl.secretbox.open(sealed, nonce, nacl.box.before(alice.publicKey, bob.secretKey));
    }, args.repeats);
    check(opened !== null && sameBytes(opened, bytes), 'secretbox did not round-trip');
    const chachaSealMs = add('seal', p, null, 'node x25519+chacha20-poly1305', chacha.seal, n, null);
    add('seal', p, null, 'node x25519+aes-256-gcm', gcm.seal, n, chachaSealMs);
    add('seal', p, null, 'tweetnacl x25519+xsalsa20-poly1305', naclSeal, n, chachaSealMs);
    const chachaOpenMs = add('open', p, null, 'node x25519+chacha20-poly1305', chacha.open, n, null);
    add('open', p, null, 'node x25519+aes-256-gcm', gcm.open, n, chachaOpenMs);
    add('open', p, null, 'tweetnacl x25519+xsalsa20-poly1305', naclOpen, n, chachaOpenMs);

    // fedseg's own update envelope (libs/protocol): ephemeral X25519 + HKDF, ChaCha20-Poly1305 per 512 KiB
    // chunk, Ed25519 header signature; open = verify + decrypt every chunk + sha256 of the whole.
    const envelopeKeys = { coordinator: generateIdentity(), site: generateIdentity() };
    const fields = {
      taskId: crypto.randomUUID(),
      studyId: crypto.randomUUID(),
      round: 1,
      siteId: crypto.randomUUID(),
      samples: 4,
      trainLoss: 1,
      steps: 1,
      codec: 'none',
    };
    let envelope = sealUpdate(fields, bytes, {
      coordinatorAgreementPublicKey: envelopeKeys.coordinator.agreementPublicKey,
      siteSigningSecretKey: envelopeKeys.site.signingSecretKey,
    });
    const envSeal = timeMs(() => {
      envelope = sealUpdate(fields, bytes, {
        coordinatorAgreementPublicKey: envelopeKeys.coordinator.agreementPublicKey,
        siteSigningSecretKey: envelopeKeys.site.signingSecretKey,
      });
    }, args.repeats);
    let envPlain: Uint8Array = new Uint8Array(0);
    const envOpen = timeMs(() => {
      const opener = new UpdateOpener(envelope.begin, {
        siteSigningPublicKey: envelopeKeys.site.signingPublicKey,
        coordinatorAgreementSecretKey: envelopeKeys.coordinator.agreementSecretKey,
      });
      envelope.chunks.forEach((c, i) => opener.addChunk(i, c));
      envPlain = opener.finish();
    }, args.repeats);
    check(sameBytes(envPlain, bytes), 'the fedseg envelope did not round-trip');
    add('seal', p, null, 'fedseg envelope (chunked, signed)', envSeal, n, chachaSealMs);
    add('open', p, null, 'fedseg envelope (chunked, signed)', envOpen, n, chachaOpenMs);

    // Sign / verify over the sha256 of the update (what a signed envelope would carry) and over the whole.
    const sha = (): Buffer => crypto.createHash('sha256').update(bytes).digest();
    for (const over of ['sha256', 'whole'] as const) {
      const message = (): Uint8Array => (over === 'sha256' ? sha() : bytes);
      let nodeSig = Buffer.alloc(0);
      let naclSig: Uint8Array = new Uint8Array(0);
      let nodeOk = false;
      let naclOk = false;
      const nodeSign = timeMs(() => {
        nodeSig = crypto.sign(null, message(), nodeEd.privateKey);
      }, args.repeats);
      const naclSign = timeMs(() => {
        naclSig = nacl.sign.detached(message(), signer.secretKey);
      }, args.repeats);
      const nodeVerify = timeMs(() => {
        nodeOk = crypto.verify(null, message(), nodeEd.publicKey, nodeSig);
      }, args.repeats);
      const naclVerify = timeMs(() => {
        naclOk = nacl.sign.detached.verify(message(), naclSig, signer.publicKey);
      }, args.repeats);
      check(nodeOk && naclOk, `ed25519 ${over} signature did not verify`);
      const signMs = add(`sign ${over}`, p, null, 'node ed25519', nodeSign, n, null);
      add(`sign ${over}`, p, null, 'tweetnacl ed25519', naclSign, n, signMs);
      const verifyMs = add(`verify ${over}`, p, null, 'node ed25519', nodeVerify, n, null);
      add(`verify ${over}`, p, null, 'tweetnacl ed25519', naclVerify, n, verifyMs);
    }
  }

  // Secure aggregation (libs/aggregation/src/secure): one whole round of the real protocol in this process:
  // every site's fresh keys, Shamir shares, ChaCha20 masks in Z_2^64; the coordinator's unmasking, with no
  // dropout and with one site dropping after the key exchange (its pairwise masks rebuilt from shares).
  for (const p of args.secaggParams) {
    const updates = Array.from({ length: Math.max(...args.secaggSites) }, (_, i) => makeUpdate(p, 7_000 + i));
    for (const sites of args.secaggSites) {
      const threshold = Math.floor(sites / 2) + 1;
      for (const dropouts of [0, 1]) {
        const mine = updates.slice(0, sites);
        const weights = mine.map((_, i) => 1 + i);
        const dropAfterSharing = dropouts ? [sites - 1] : [];
        simulateSecureAggregation({ updates: mine.map((u) => u.subarray(0, 1000)), threshold }); // warm-up
        const result = simulateSecureAggregation({ updates: mine, weights, threshold, dropAfterSharing });
        // The coordinator's sum must be the survivors' weighted sum, to the fixed point's precision.
        let worst = 0;
        for (let i = 0; i < p; i += 97) {
          let expected = 0;
          for (const k of result.survivors) expected += mine[k]![i]! * weights[k]!;
          worst = Math.max(worst, Math.abs(result.sum[i]! - expected));
        }
        check(worst <= sites * 2 ** -33 + 1e-12, `secure sum off by ${worst}`);
        secureSumExact = true; // check() above throws otherwise
        const tag = `${sites} sites, t=${threshold}${dropouts ? ', 1 dropped' : ''}`;
        const mb = p * 4;
        rows.push({
          op: 'secagg mask (per site)',
          params: p,
          peers: sites,
          engine: tag,
          ms: result.timings.maskMsPerSite,
          mbPerS: mb / 1e6 / (result.timings.maskMsPerSite / 1000),
          keystreamMbPerS: (sites * p * 8) / 1e6 / (result.timings.maskMsPerSite / 1000),
          xNode: null,
          runsMs: [result.timings.maskMsPerSite],
        });
        rows.push({
          op: 'secagg unmask (coordinator)',
          params: p,
          peers: sites,
          engine: tag,
          ms: result.timings.unmaskMs,
          mbPerS: mb / 1e6 / (result.timings.unmaskMs / 1000),
          keystreamMbPerS: null,
          xNode: null,
          runsMs: [result.timings.unmaskMs],
        });
      }
    }
  }

  const totalS = (performance.now() - started) / 1000;
  console.log(
    `crypto: the trust primitives and fedseg's update envelope; updates of ${args.params.map((p) => `${p} float32 (${((p * 4) / 1e6).toFixed(2)} MB)`).join(', ')}; median of ${args.repeats} runs; node ${process.versions.node}, OpenSSL ${process.versions.openssl}, tweetnacl 1.0.3`,
  );
  console.log(
    "x node = this row's time / the node:crypto row above it (chacha20-poly1305 for seal/open); mask MB/s = one update masked per second, stream MB/s = mask keystream made per second\n",
  );
  printTable(
    ['op', 'P', 'N', 'engine', 'ms', 'MB/s', 'stream MB/s', 'x node'],
    rows.map((r) => [
      r.op,
      r.params ? String(r.params) : '-',
      r.peers === null ? '-' : String(r.peers),
      r.engine,
      r.ms < 1 ? r.ms.toFixed(3) : fmt(r.ms, 1),
      fmt(r.mbPerS, 1),
      r.keystreamMbPerS === null ? '' : fmt(r.keystreamMbPerS, 0),
      r.op.startsWith('secagg') ? '' : r.xNode === null ? '(ref)' : fmt(r.xNode, 2),
    ]),
  );
  console.log(
    `\nsecure aggregation recovers the survivors' exact sum: ${secureSumExact === null ? 'not checked' : secureSumExact ? 'yes' : 'NO'}; total ${totalS.toFixed(1)} s`,
  );
  console.log(
    JSON.stringify({
      bench: 'crypto',
      params: args.params,
      secaggParams: args.secaggParams,
      secaggSites: args.secaggSites,
      repeats: args.repeats,
      quick: args.quick,
      secureSumExact,
      totalSeconds: totalS,
      results: rows.map((r) => ({ ...r, mbPerS: Number.isFinite(r.mbPerS) ? r.mbPerS : null })),
    }),
  );
}
