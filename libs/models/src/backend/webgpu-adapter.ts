/// <reference types="@webgpu/types" />
import { dirname, join } from 'node:path';
import { optionalRequire } from './optional-require';

/** What Dawn says about the adapter it offers (the WebGPU GPUAdapterInfo fields we report). */
export interface WebGpuAdapterDescription {
  /** 'hardware' for a real GPU; 'software' for a CPU rasterizer (Mesa lavapipe, SwiftShader, WARP). */
  kind: 'hardware' | 'software';
  vendor: string;
  architecture: string;
  description: string;
  device: string;
}

/** The adapter and its description; `adapter` is what tfjs-backend-webgpu is started on. */
export interface DiscoveredWebGpuAdapter {
  adapter: GPUAdapter;
  info: WebGpuAdapterDescription;
}

/** The prebuilt addon inside the npm package `webgpu` (Dawn's node bindings). */
interface DawnAddon {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

/**
 * Names of CPU-only Vulkan/D3D drivers. Dawn marks them with GPUAdapterInfo.isFallbackAdapter (lavapipe in
 * Mesa 25 reports architecture 'software' too), but older Dawn builds and some drivers set neither, so the
 * device string is checked as well: a site must never believe it trains on a GPU when it does not.
 */
const SOFTWARE_DRIVER = /llvmpipe|lavapipe|swiftshader|microsoft basic render|\bwarp\b|softpipe/i;

/** Classifies an adapter's reported info as hardware or software. Pure, so it is tested without a GPU. */
export function describeAdapter(
  info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean },
): WebGpuAdapterDescription {
  const vendor = info.vendor ?? '';
  const architecture = info.architecture ?? '';
  const description = info.description ?? '';
  const device = info.device ?? '';
  const software =
    info.isFallbackAdapter === true ||
    architecture.toLowerCase() === 'software' ||
    SOFTWARE_DRIVER.test(`${description} ${device}`);
  return { kind: software ? 'software' : 'hardware', vendor, architecture, description, device };
}

/** One line for logs and BackendInfo.adapter: "mesa software llvmpipe: Mesa 25.0.7 (software adapter)". */
export function formatAdapter(info: WebGpuAdapterDescription): string {
  const parts = [info.vendor, info.architecture, info.description || info.device].filter((s) => s.length > 0);
  return `${parts.join(' ') || 'unnamed WebGPU adapter'} (${info.kind} adapter)`;
}

/**
 * GPUAdapter.info (WebGPU spec, 2024; Dawn has it) postdates the @webgpu/types release tfjs pins, which
 * only knows the older requestAdapterInfo(); read it through this one typed accessor.
 */
export function adapterInfo(
  adapter: GPUAdapter,
): (GPUAdapterInfo & { isFallbackAdapter?: boolean }) | undefined {
  return (adapter as GPUAdapter & { info?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).info;
}

let gpu: GPU | undefined;

/**
 * Loads Dawn and installs its WebGPU globals (navigator.gpu, GPUBufferUsage, ...) once per process. The
 * package's own entry is an ES module; its `dawn.node` addon is required directly so that everything here
 * stays CommonJS (DESIGN.md: one module system for tfjs). Throws with the reason it cannot load.
 */
export function loadDawn(): GPU {
  if (gpu) return gpu;
  let packageDir: string;
  try {
    packageDir = dirname(require.resolve('webgpu/package.json'));
  } catch {
    throw new Error('the npm package webgpu (Dawn) is not installed');
  }
  const arch = process.platform === 'darwin' ? 'universal' : process.arch;
  const addonPath = join(packageDir, 'dist', `${process.platform}-${arch}`, 'dawn.node');
  const loaded = optionalRequire(addonPath);
  if ('reason' in loaded)
    throw new Error(`Dawn could not load for ${process.platform}-${arch}: ${loaded.reason}`);
  const dawn = loaded.module as DawnAddon;
  // tfjs-backend-webgpu uses the WebGPU constants (GPUBufferUsage, GPUMapMode) as globals, as in a browser.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis))
      Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  const created = dawn.create([]);
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator && !g.navigator.gpu)
    Object.defineProperty(g.navigator, 'gpu', { value: created, configurable: true });
  else if (!g.navigator)
    Object.defineProperty(globalThis, 'navigator', {
      value: { gpu: created },
      configurable: true,
      writable: true,
    });
  gpu = g.navigator?.gpu ?? created;
  return gpu;
}

/**
 * Asks Dawn for the high-performance adapter (a discrete GPU where there are several) and describes it.
 * Throws, saying what to install, when there is none: no Vulkan loader or driver (Linux), no Metal or D3D12.
 */
export async function discoverWebGpuAdapter(): Promise<DiscoveredWebGpuAdapter> {
  const adapter = await loadDawn().requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(
      'Dawn found no WebGPU adapter: on Linux install the Vulkan loader (libvulkan1) and the GPU vendor’s Vulkan driver, ' +
        'or for a software adapter run scripts/ci/install-vulkan.sh',
    );
  }
  // GPUAdapterInfo's fields are getters on its prototype: read them one by one (a spread copies none).
  const info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean } = adapterInfo(adapter) ?? {};
  const fallback =
    info.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return {
    adapter,
    info: describeAdapter({
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      device: info.device,
      isFallbackAdapter: fallback,
    }),
  };
}
