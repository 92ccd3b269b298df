/**
 * `npm run bench -- codec [--params=10000000] [--repeats=3] [--fraction=0.01]`
 *
 * Encodes and decodes one update delta of P float32 values with each codec (fp32 as is, fp16, int8 with
 * nearest and stochastic rounding, top-k with error feedback) through the wire format (`encodeTensors` /
 * `decodeTensors`), and reports encode and decode MB/s of float32 input, the compression ratio (fp32 blob
 * bytes / encoded blob bytes), and the reconstruction error (max |error| and relative L2 error).
 * Reference in the same run: a plain typed-array copy of the same P floats (into an existing and a new buffer). Prints a table, then one JSON line.
 */
import { decodeUpdate, encodeUpdate, seededRng } from '@fedseg/aggregation';
import { CompressionConfig, decodeTensors, encodeTensors, type WeightSpec } from '@fedseg/protocol';

function parseArgs(argv: string[]): { params: number; repeats: number; fraction: number } {
  const get = (name: string, fallback: string) =>
    argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
  const args = {
    params: Number(get('params', '10000000')),
    repeats: Number(get('repeats', '3')),
    fraction: Number(get('fraction', '0.01')),
  };
  if (!(args.params >= 1 && args.repeats >= 1 && args.fraction > 0 && args.fraction <= 1)) {
    throw new Error('usage: codec [--params=P] [--repeats=R] [--fraction=F]');
  }
  return args;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** A delta shaped like a model's: tensors of 64k values whose magnitudes differ by up to 100x. */
function makeDelta(p: number): { delta: Float32Array; manifest: WeightSpec[] } {
  const delta = new Float32Array(p);
  const manifest: WeightSpec[] = [];
  let x = 2463534242;
  for (let start = 0, t = 0; start < p; start += 65_536, t++) {
    const len = Math.min(65_536, p - start);
    manifest.push({ name: `layer${t}.kernel`, shape: [len] });
    const scale = 1e-3 * (1 + (t % 10) * 11);
    for (let i = start; i < start + len; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      delta[i] = scale * ((x >>> 0) / 4294967296 - 0.5);
    }
  }
  return { delta, manifest };
}

export async function run(argv: string[]): Promise<void> {
  const { params: p, repeats, fraction } = parseArgs(argv);
  const { delta, manifest } = makeDelta(p);
  const mb = (p * 4) / 1e6;
  // Two references: a copy into a buffer that exists (memory bandwidth) and one into a fresh buffer (what
  // a codec that allocates its output pays for page faults too).
  const dst = new Float32Array(p);
  const timeIt = (f: () => unknown) =>
    median(
      Array.from({ length: repeats + 1 }, () => {
        const t = performance.now();
        f();
        return performance.now() - t;
      }).slice(1),
    );
  const copyMbPerS = mb / (timeIt(() => dst.set(delta)) / 1000);
  const allocCopyMbPerS = mb / (timeIt(() => delta.slice()) / 1000);
  const fp32Bytes = encodeTensors(encodeUpdate({ codec: 'none' }, delta, null).tensors).byteLength;
  const codecs: [string, CompressionConfig][] = [
    ['none', CompressionConfig.parse({ codec: 'none' })],
    ['fp16', CompressionConfig.parse({ codec: 'fp16' })],
    ['int8-nearest', CompressionConfig.parse({ codec: 'int8', rounding: 'nearest' })],
    ['int8-stochastic', CompressionConfig.parse({ codec: 'int8', rounding: 'stochastic' })],
    [`top-k ${fraction}`, CompressionConfig.parse({ codec: 'top-k', fraction })],
  ];
  const rows = codecs.map(([name, codec]) => {
    const enc: number[] = [];
    const dec: number[] = [];
    let bytes = 0;
    let decoded: Float32Array = new Float32Array(0);
    for (let r = 0; r <= repeats; r++) {
      let t = performance.now();
      const { tensors } = encodeUpdate(codec, delta, null, { manifest, rng: seededRng(r) });
      const blob = encodeTensors(tensors);
      const encMs = performance.now() - t;
      t = performance.now();
      decoded = decodeUpdate(decodeTensors(blob));
      const decMs = performance.now() - t;
      bytes = blob.byteLength;
      if (r > 0) {
        enc.push(encMs);
        dec.push(decMs);
      }
    }
    let maxAbs = 0;
    let err2 = 0;
    let ref2 = 0;
    for (let i = 0; i < p; i++) {
      const e = decoded[i] - delta[i];
      maxAbs = Math.max(maxAbs, Math.abs(e));
      err2 += e * e;
      ref2 += delta[i] * delta[i];
    }
    return {
      codec: name,
      encodeMbPerS: mb / (median(enc) / 1000),
      decodeMbPerS: mb / (median(dec) / 1000),
      bytes,
      ratio: fp32Bytes / bytes,
      maxAbsError: maxAbs,
      relL2Error: Math.sqrt(err2 / ref2),
    };
  });
  console.log(
    `codec: one update of P = ${p} float32 (${mb.toFixed(1)} MB), ${manifest.length} tensors, median of ${repeats} runs`,
  );
  console.log(
    `reference: typed-array copy ${copyMbPerS.toFixed(0)} MB/s into an existing buffer, ${allocCopyMbPerS.toFixed(0)} MB/s into a new one`,
  );
  console.log('codec              encode MB/s  decode MB/s   ratio    max|err|   rel L2 err');
  for (const r of rows) {
    console.log(
      `${r.codec.padEnd(18)} ${r.encodeMbPerS.toFixed(0).padStart(11)} ${r.decodeMbPerS.toFixed(0).padStart(12)} ${r.ratio.toFixed(2).padStart(7)} ${r.maxAbsError.toExponential(2).padStart(11)} ${r.relL2Error.toExponential(2).padStart(12)}`,
    );
  }
  console.log(
    JSON.stringify({
      bench: 'codec',
      params: p,
      repeats,
      copyMbPerS,
      allocCopyMbPerS,
      fp32Bytes,
      results: rows,
    }),
  );
}
