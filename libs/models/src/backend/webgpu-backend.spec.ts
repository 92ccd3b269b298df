import * as tf from '@tensorflow/tfjs-core';
import { describeOnWebGpu } from '../webgpu/testing/webgpu-availability';
import { initBackend } from './init-backend';
import { describeAdapter, formatAdapter } from './webgpu-adapter';
import { WebGpuSyncReadError } from './webgpu-errors';

describe('describeAdapter', () => {
  it('calls Mesa lavapipe a software adapter (as Dawn reports it with Mesa 25)', () => {
    const info = describeAdapter({
      vendor: 'mesa',
      architecture: 'software',
      description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
      device: 'llvmpipe-llvm-15-0-6-256-bits-',
      isFallbackAdapter: true,
    });
    expect(info.kind).toBe('software');
    expect(formatAdapter(info)).toBe(
      'mesa software llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1 (software adapter)',
    );
  });

  it('calls a CPU driver software even when Dawn sets neither the fallback flag nor the architecture', () => {
    expect(describeAdapter({ vendor: 'google', description: 'SwiftShader Device (Subzero)' }).kind).toBe(
      'software',
    );
    expect(describeAdapter({ vendor: 'microsoft', description: 'Microsoft Basic Render Driver' }).kind).toBe(
      'software',
    );
  });

  it('calls a discrete GPU hardware and names vendor, architecture and description', () => {
    const info = describeAdapter({
      vendor: 'nvidia',
      architecture: 'hopper',
      description: 'NVIDIA H100 80GB HBM3',
      isFallbackAdapter: false,
    });
    expect(info.kind).toBe('hardware');
    expect(formatAdapter(info)).toBe('nvidia hopper NVIDIA H100 80GB HBM3 (hardware adapter)');
  });
});

describeOnWebGpu('initBackend with Dawn', (adapter) => {
  afterAll(async () => {
    await initBackend('cpu');
  });

  it("takes the adapter when asked with 'webgpu' and names vendor, architecture and description", async () => {
    const info = await initBackend('webgpu');
    expect(info.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(info.adapter).toContain(adapter);
    expect(info.adapter).toMatch(/\((software|hardware) adapter\)$/);
  });

  it('refuses a synchronous read of a GPU tensor with a named error, and serves it once read asynchronously', async () => {
    await initBackend('webgpu');
    // 4096 elements: above tfjs's CPU hand-off threshold (1000), so the sum is computed and kept on the GPU.
    const t = tf.add(tf.fill([4096], 1), tf.fill([4096], 2));
    expect(() => t.dataSync()).toThrow(WebGpuSyncReadError);
    expect((await t.data())[4095]).toBe(3);
    expect(t.dataSync()[0]).toBe(3);
    t.dispose();
  });

  it("under 'auto' takes webgpu only on a hardware adapter, and otherwise says why it was skipped", async () => {
    const info = await initBackend('auto');
    if (/software/.test(adapter)) {
      expect(info.name).toBe('wasm');
      const webgpu = info.skipped.find((s) => s.backend === 'webgpu');
      expect(webgpu?.reason).toMatch(/only a software adapter here \(.*llvmpipe|software adapter/);
      expect(webgpu?.reason).toMatch(/--backend webgpu/);
    } else {
      expect(info.name).toBe('webgpu');
    }
    // The native backends come first and are skipped with their reason, as before.
    expect(info.skipped[0]?.backend).toBe('tensorflow');
  });
});
