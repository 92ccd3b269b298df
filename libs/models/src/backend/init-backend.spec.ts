import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError } from '../errors';
import { initBackend, type BackendPreference } from './init-backend';

describe('initBackend', () => {
  it("picks wasm under 'auto' here and says why the native tensorflow packages were skipped", async () => {
    const info = await initBackend('auto');
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const tensorflow = info.skipped.find((s) => s.backend === 'tensorflow');
    // Neither package can install without internet (libtensorflow download): both are named with a reason.
    expect(tensorflow?.reason).toMatch(/@tensorflow\/tfjs-node-gpu/);
    expect(tensorflow?.reason).toMatch(/@tensorflow\/tfjs-node\b/);
    expect(info.adapter).toMatch(/WebAssembly/);
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

  it('refuses an unknown preference with a named error', async () => {
    await expect(initBackend('tpu' as BackendPreference)).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});
