import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoordinatorConfig } from '../config/coordinator-config';
import { startCoordinator } from '../coordinator';

/** What transfers in flight left on disk is swept when a coordinator starts; stored blobs are not. */
describe('a coordinator starting over what a previous process left', () => {
  it('drops partial updates and spooled models under transfers/, and keeps checkpoints and updates', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'fedseg-leftovers-'));
    const blobs = path.join(home, 'blobs');
    const config = CoordinatorConfig.parse({ port: 0, host: '127.0.0.1', homeDir: home, logLevel: 'silent' });
    try {
      await (await startCoordinator(config)).close();
      const left = {
        partial: path.join(blobs, 'transfers', 'updates', 'site-abc.partial'),
        spooled: path.join(blobs, 'transfers', 'models', 'ab12.fstn'),
      };
      const kept = {
        checkpoint: path.join(blobs, 'checkpoints', 'study', 'round-00001.fstn'),
        update: path.join(blobs, 'updates', 'study', 'round-1', 'site-u.fstn'),
      };
      for (const file of [...Object.values(left), ...Object.values(kept)]) {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, 'bytes');
      }
      const again = await startCoordinator(config);
      try {
        expect(fs.existsSync(path.join(blobs, 'transfers'))).toBe(false);
        for (const file of Object.values(kept)) expect(fs.readFileSync(file, 'utf8')).toBe('bytes');
      } finally {
        await again.close();
      }
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
