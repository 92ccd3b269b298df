import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError } from '../errors';
import { describeKernels, initBackend, type BackendPreference } from './init-backend';

describe('initBackend', () => {
  it("picks webgpu (hardware adapter only) or else wasm under 'auto', and says why native tensorflow was skipped", async () => {
    const info = await initBackend('auto');
    expect(['webgpu', 'wasm']).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name);
    if (info.name === 'wasm') {
      expect(info.adapter).toMatch(/WebAssembly/);
      expect(info.skipped.map((s) => s.backend)).toContain('webgpu');
    }
    const tensorflow = info.skipped.find((s) => s.backend === 'tensorflow');
    // Neither package can install without internet (libtensorflow download): both are named with a reason.
    expect(tensorflow?.reason).toMatch(/@tensorflow\/tfjs-node-gpu/);
    expect(tensorflow?.reason).toMatch(/@tensorflow\/tfjs-node\b/);
  });

  it('is idempotent for the same preference and switches for another', async () => {
    const first = initBackend('wasm');
    expect(initBackend('wasm')).toBe(first);
    expect((await first).name).toBe('wasm');
    const cpu = await initBackend('cpu');
    expect(cpu).toMatchObject({ name: 'cpu', skipped: expect.any(Array) });
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend('wasm', { fastKernels: false })).name).toBe('wasm');
  });

  it('describes which kernels run the convolutions and why', async () => {
    await initBackend('wasm');
    // oneDNN where the addon is built, else the SIMD module with the reason the addon is not used.
    expect(describeKernels()).toMatch(
      /^wasm: Conv3D and its backprops on (oneDNN|WebAssembly SIMD128 .*; oneDNN not used: .+)/,
    );
    await initBackend('wasm', { fastKernels: false });
    expect(describeKernels()).toMatch(/^wasm: tfjs's own kernels \(fast kernels turned off/);
  });

  it('refuses an unknown preference with a named error', async () => {
    await expect(initBackend('tpu' as BackendPreference)).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});
