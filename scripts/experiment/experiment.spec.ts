import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { ExperimentOptions, parseExperimentArgs, QUICK_OPTIONS } from './experiment-options';
import { crc32, encodePng } from './png-encoder';
import { runAndReport } from './run-experiment';

jest.setTimeout(120_000);

/** A few seconds' worth: 2 sites x 4 cases of 8^3, a depth-2 U-Net with 2 filters, 2 rounds. */
const tiny = ExperimentOptions.parse({
  ...QUICK_OPTIONS,
  sites: 2,
  casesPerSite: 4,
  shape: [8, 8, 8],
  testFraction: 0.5,
  model: { architecture: 'unet3d', numClasses: 3, baseFilters: 2, depth: 2 },
  training: { ...QUICK_OPTIONS.training, patchSize: [8, 8, 8] },
  rounds: 2,
  evalEvery: 1,
  backend: 'wasm',
});

describe('the experiment', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'fedseg-experiment-spec-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes the same figures.json twice for the same seed, with every model scored on every site', async () => {
    const quiet = (): void => undefined;
    const a = await runAndReport(tiny, path.join(dir, 'a'), quiet);
    await runAndReport(tiny, path.join(dir, 'b'), quiet);
    const jsonA = await fs.readFile(path.join(dir, 'a', 'figures.json'), 'utf8');
    const jsonB = await fs.readFile(path.join(dir, 'b', 'figures.json'), 'utf8');
    expect(jsonB).toBe(jsonA);
    expect(await fs.readFile(path.join(dir, 'b', 'dice-per-round.png'))).toEqual(
      await fs.readFile(path.join(dir, 'a', 'dice-per-round.png')),
    );

    expect(a.methods.map((m) => m.method)).toEqual([
      'centralized',
      'fedavg',
      'fedprox',
      'fedadam',
      'local-site-1',
      'local-site-2',
    ]);
    // Same compute: centralized takes the steps of all sites together, a local-only model its site's share.
    const steps = Object.fromEntries(a.methods.map((m) => [m.method, m.steps]));
    expect(steps['centralized']).toBe(steps['fedavg']);
    expect(steps['fedprox']).toBe(steps['fedavg']);
    expect(steps['local-site-1']! + steps['local-site-2']!).toBe(steps['fedavg']);
    for (const m of a.methods) {
      expect(m.scores.map((s) => s.site)).toEqual(['site-1', 'site-2']);
      expect(m.curve.map((p) => p.round)).toEqual([1, 2]);
      for (const s of m.scores) expect(s.perClass.map((c) => c.label)).toEqual([1, 2]);
    }
    expect(a.headline.fedavg_over_centralized).toBeCloseTo(
      a.headline.fedavg_dice / a.headline.centralized_dice,
      12,
    );
    const report = await fs.readFile(path.join(dir, 'a', 'report.md'), 'utf8');
    expect(report).toContain('| fedavg |');
    expect(report).toContain('![test Dice per round](dice-per-round.png)');
  });

  it('reads its options and refuses unknown ones', () => {
    expect(parseExperimentArgs(['--quick', '--seed', '3']).options.seed).toBe(3);
    expect(parseExperimentArgs([]).quick).toBe(false);
    expect(() => parseExperimentArgs(['--epochs', '3'])).toThrow(/Unknown option --epochs/);
    expect(() => parseExperimentArgs(['--rounds', '0'])).toThrow(/rounds/);
  });
});

describe('encodePng', () => {
  it('computes the CRC-32 check value of "123456789" (0xCBF43926, ISO 3309)', () => {
    expect(crc32(Buffer.from('123456789', 'ascii'))).toBe(0xcbf43926);
  });

  it('writes a PNG whose IHDR and pixels decode back', () => {
    const rgb = Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]);
    const png = encodePng({ width: 2, height: 2, rgb });
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.toString('ascii', 12, 16)).toBe('IHDR');
    expect([png.readUInt32BE(16), png.readUInt32BE(20), png[24], png[25]]).toEqual([2, 2, 8, 2]);
    const idatLength = png.readUInt32BE(33);
    expect(png.toString('ascii', 37, 41)).toBe('IDAT');
    const rows = inflateSync(png.subarray(41, 41 + idatLength));
    expect([...rows]).toEqual([0, ...rgb.subarray(0, 6), 0, ...rgb.subarray(6)]);
  });
});
