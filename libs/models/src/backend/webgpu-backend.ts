/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { registerWebGpuKernels } from '../webgpu/register';
import { optionalRequire } from './optional-require';
import { WebGpuSyncReadError } from './webgpu-errors';
import {
  adapterInfo,
  discoverWebGpuAdapter,
  formatAdapter,
  type WebGpuAdapterDescription,
} from './webgpu-adapter';

type WebGpuModule = { WebGPUBackend: typeof WebGPUBackend };

export interface StartWebGpuOptions {
  /**
   * Accept a software adapter (Mesa lavapipe, SwiftShader). Only when the operator asked for webgpu: on a
   * machine without a GPU the software adapter is several times slower than the wasm backend.
   */
  allowSoftware: boolean;
}

/** Whether this runtime has OffscreenCanvas (browsers, Deno): then tfjs's own synchronous read works. */
const OffscreenCanvasProbe = { ctor: (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas };

/** WebGPU errors nobody caught (shader compile and validation failures), newest last, at most 20 kept. */
const deviceErrors: string[] = [];
let deviceErrorCount = 0;

/**
 * A WGSL program tfjs generates that fails to compile does not throw: the dispatch is dropped and the output
 * stays zeros, so training silently goes wrong. Every such error is counted and the first few are logged,
 * so tests can assert there were none and an operator sees the cause.
 */
function watchDeviceErrors(device: GPUDevice): void {
  device.addEventListener('uncapturederror', (event) => {
    const message = (event as GPUUncapturedErrorEvent).error.message.trim();
    deviceErrorCount += 1;
    deviceErrors.push(message.slice(0, 2000));
    if (deviceErrors.length > 20) deviceErrors.shift();
    if (deviceErrorCount <= 3)
      console.error(
        `[fedseg webgpu] GPU error (results may be wrong): ${message.split('\n').slice(0, 3).join(' | ')}`,
      );
  });
  void device.lost.then((info) => {
    if (info.reason !== 'destroyed') console.error(`[fedseg webgpu] GPU device lost: ${info.message}`);
  });
}

/** How many uncaught WebGPU errors this process has seen, and the last messages. */
export function webGpuDeviceErrors(): { count: number; last: readonly string[] } {
  return { count: deviceErrorCount, last: [...deviceErrors] };
}

/** The adapter the registered `webgpu` backend runs on (set once per process: tfjs keeps one instance). */
let registeredOn: WebGpuAdapterDescription | undefined;

/**
 * Registers tfjs's WebGPUBackend on the adapter we chose and described, rather than letting
 * tfjs-backend-webgpu pick its own on import (it registers only if navigator.gpu already exists then, and
 * would request an adapter of its own, which need not be the one we report). Device limits are raised to
 * the adapter's, as tfjs does, so 3D activations larger than WebGPU's 128 MiB default binding size fit.
 */
function registerBackendOn(adapter: GPUAdapter, info: WebGpuAdapterDescription): void {
  const loaded = optionalRequire('@tensorflow/tfjs-backend-webgpu');
  if ('reason' in loaded) throw new Error(loaded.reason);
  const { WebGPUBackend: Stock } = loaded.module as WebGpuModule;
  /** tfjs's backend with one change: a synchronous read that cannot work in Node says so, by name. */
  class Backend extends Stock {
    override readSync(dataId: object): tf.backend_util.BackendValues {
      const cached = (this.tensorMap.get(dataId) as { values?: tf.backend_util.BackendValues } | undefined)
        ?.values;
      if (cached != null || typeof OffscreenCanvasProbe.ctor === 'function') return super.readSync(dataId);
      throw new WebGpuSyncReadError(
        'A tensor on the webgpu backend was read synchronously (dataSync/arraySync); Node has no OffscreenCanvas for ' +
          "tfjs's synchronous GPU read. Use `await tensor.data()`, or run this step on --backend wasm.",
      );
    }
  }
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  const limits = adapter.limits;
  tf.registerBackend(
    'webgpu',
    async () => {
      const device = await adapter.requestDevice({
        // timestamp-query lets tf.profile / tf.time report kernel times on the GPU where the adapter has it.
        requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
        requiredLimits: {
          maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
          maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
          maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
          maxBufferSize: limits.maxBufferSize,
          maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
          maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
        },
      });
      watchDeviceErrors(device);
      return new Backend(device, adapterInfo(adapter));
    },
    // Below cpu (1) and wasm (2): tfjs never picks webgpu by itself; initBackend decides and says why.
    0,
  );
  registeredOn = info;
}

/**
 * Starts tfjs on WebGPU through Dawn and returns the adapter line for BackendInfo.adapter. Throws, with the
 * reason, when Dawn cannot load, finds no adapter, or finds only a software one that was not asked for.
 * `activate` is initBackend's setBackend + ready.
 */
export async function startWebGpuBackend(
  options: StartWebGpuOptions,
  activate: (name: string) => Promise<void>,
): Promise<string> {
  // tfjs holds one webgpu backend per process: once it exists, switching back to it reuses its device.
  if (registeredOn && tf.findBackend('webgpu')) {
    if (registeredOn.kind === 'software' && !options.allowSoftware)
      throw new Error(softwareRefusal(registeredOn));
    await activate('webgpu');
    return formatAdapter(registeredOn);
  }
  const { adapter, info } = await discoverWebGpuAdapter();
  if (info.kind === 'software' && !options.allowSoftware) throw new Error(softwareRefusal(info));
  registerBackendOn(adapter, info);
  registerWebGpuKernels();
  await activate('webgpu');
  return formatAdapter(info);
}

function softwareRefusal(info: WebGpuAdapterDescription): string {
  return `only a software adapter here (${formatAdapter(info)}), slower than wasm: used only when asked with --backend webgpu`;
}
