import { dirname, join } from 'node:path';
import { optionalRequire } from './optional-require';

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; device?: string };
}
interface GpuLike {
  requestAdapter(): Promise<GpuAdapterLike | null>;
}
interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/**
 * WebGPU in Node through Dawn (npm `webgpu`). Its entry file is an ES module, so the prebuilt `dawn.node`
 * addon it wraps is loaded directly with require; tfjs-backend-webgpu registers itself only if
 * navigator.gpu exists when it is first loaded, hence the order below.
 */
export async function startWebGpu(activate: (name: string) => Promise<void>): Promise<string> {
  let packageDir: string;
  try {
    packageDir = dirname(require.resolve('webgpu/package.json'));
  } catch {
    throw new Error('the webgpu package is not installed');
  }
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  const loaded = optionalRequire(join(packageDir, 'dist', `${process.platform}-${arch}`, 'dawn.node'));
  if ('reason' in loaded) throw new Error(`Dawn could not load: ${loaded.reason}`);
  const dawn = loaded.module as DawnModule;
  const g = globalThis as { navigator?: { gpu?: GpuLike } };
  if (!g.navigator?.gpu) {
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create([]);
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else g.navigator = { gpu };
  }
  const adapter = await g.navigator!.gpu!.requestAdapter();
  if (!adapter) throw new Error('Dawn found no GPU adapter (no Vulkan/Metal/D3D12 device)');
  const backend = optionalRequire('@tensorflow/tfjs-backend-webgpu');
  if ('reason' in backend) throw new Error(backend.reason);
  await activate('webgpu');
  const info = adapter.info ?? {};
  return [info.vendor, info.architecture, info.description || info.device].filter((s) => s).join(' ') || 'WebGPU adapter';
}
