import { spawnSync } from 'node:child_process';

/** Whether Dawn offers an adapter on this machine, asked once per test file. */
export type WebGpuAvailability = { available: true; adapter: string } | { available: false; reason: string };

/**
 * Jest collects tests synchronously, before any async adapter request could run, so the probe is a short
 * child process (about half a second): it loads Dawn, asks for an adapter, prints what it found. A child
 * also keeps a Dawn that crashes on a broken driver from taking the test worker with it.
 */
export function probeWebGpu(): WebGpuAvailability {
  const script = `
    const { join, dirname } = require('node:path');
    const arch = process.platform === 'darwin' ? 'universal' : process.arch;
    const dawn = require(join(dirname(require.resolve('webgpu/package.json')), 'dist', process.platform + '-' + arch, 'dawn.node'));
    dawn.create([]).requestAdapter().then((a) => {
      process.stdout.write(JSON.stringify(a ? [a.info.vendor, a.info.architecture, a.info.description].join(' ') : null));
      process.exit(0);
    }, (e) => { process.stdout.write(JSON.stringify({ error: String(e) })); process.exit(0); });`;
  const child = spawnSync(process.execPath, ['-e', script], {
    cwd: __dirname,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (child.status !== 0)
    return {
      available: false,
      reason: `Dawn did not start: ${(child.stderr || String(child.error)).trim().split('\n')[0]}`,
    };
  let found: unknown;
  try {
    found = JSON.parse(child.stdout);
  } catch {
    return { available: false, reason: `Dawn's probe printed nothing usable: ${child.stdout.slice(0, 200)}` };
  }
  if (typeof found === 'string') return { available: true, adapter: found };
  if (found && typeof found === 'object' && 'error' in found)
    return { available: false, reason: String(found.error) };
  return { available: false, reason: 'Dawn found no Vulkan/Metal/D3D12 adapter' };
}

/**
 * `describe` when an adapter exists. Otherwise the suite must not pass silently: under CI (CI=true) it fails
 * with one test naming the fix; elsewhere it is skipped with a loud warning, so a developer without Vulkan
 * can still run the rest of the library's tests.
 */
export function describeOnWebGpu(name: string, body: (adapter: string) => void): void {
  const probe = probeWebGpu();
  if (probe.available) {
    describe(`${name} [webgpu: ${probe.adapter}]`, () => body(probe.adapter));
    return;
  }
  const message =
    `NO WEBGPU ADAPTER: "${name}" cannot run (${probe.reason}). ` +
    'Run scripts/ci/install-vulkan.sh (as root) to install libvulkan1 + Mesa lavapipe, or a GPU vendor Vulkan driver.';
  if (process.env['CI'] === 'true') {
    describe(name, () => {
      it('needs a WebGPU adapter (none here)', () => {
        throw new Error(message);
      });
    });
    return;
  }
  console.warn(`\n${'!'.repeat(100)}\n${message}\nSKIPPED; under CI=true this fails.\n${'!'.repeat(100)}\n`);
  describe.skip(name, () => body('none'));
}
