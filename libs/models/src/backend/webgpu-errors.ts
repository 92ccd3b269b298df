import { FedsegError } from '@fedseg/protocol';

/**
 * A synchronous read (dataSync, arraySync) of a tensor that lives on the GPU, under Node. tfjs-backend-webgpu
 * implements it in browsers by drawing into an OffscreenCanvas, which Node lacks; Dawn's readback is
 * asynchronous only. Callers must use `await tensor.data()` on webgpu.
 */
export class WebGpuSyncReadError extends FedsegError {
  constructor(message: string) {
    super('WEBGPU_SYNC_READ', message);
  }
}
