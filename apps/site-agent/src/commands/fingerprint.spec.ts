import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateConsortium } from '@fedseg/imaging';
import { SiteFingerprint } from '@fedseg/protocol';
import { fingerprintCommand } from './fingerprint';

describe('fedseg-agent fingerprint', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'fedseg-fingerprint-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('prints the site message for the training split only, without case names', async () => {
    const { siteDirs } = await generateConsortium({
      outDir: root,
      sites: 1,
      casesPerSite: 4,
      shape: [10, 8, 6],
      seed: 2,
    });
    const out: string[] = [];
    const err: string[] = [];
    const code = await fingerprintCommand(
      ['--data', siteDirs[0]!, '--memory-mb', '2048', '--val-fraction', '0.25'],
      {
        out: (l) => out.push(l),
        err: (l) => err.push(l),
      },
    );
    expect(code).toBe(0);
    const message = SiteFingerprint.parse(JSON.parse(out.join('\n')));
    // 4 cases, a quarter kept for validation: 3 training cases.
    expect(message.cases).toHaveLength(3);
    expect(message.cases[0]!.shape).toEqual([10, 8, 6]);
    expect(message.numClasses).toBe(3);
    expect(message.memoryBudgetMb).toBe(2048);
    expect(message.modalities.map((m) => m.modality)).toEqual(['MRI']);
    expect(out.join('\n')).not.toMatch(/case_|nii|imagesTr|labelsTr/);
    expect(err.at(-1)).toBe('fingerprint: case 3/3');
  });

  it('refuses an unknown flag with usage and exit code 2', async () => {
    const err: string[] = [];
    expect(
      await fingerprintCommand(['--data', root, '--bogus', '1'], { out: () => {}, err: (l) => err.push(l) }),
    ).toBe(2);
    expect(err.join('\n')).toMatch(/usage: fedseg-agent fingerprint/);
  });
});
