export {
  registerFastKernels,
  restoreOriginalKernels,
  kernelChoice,
  type FastKernelOptions,
  type KernelChoice,
  type KernelLog,
} from './register';
export { loadWasmSimdKernels, WASM_SIMD_PATH } from './wasm-simd-kernels';
export { loadNativeKernels, type NativeKernels } from './native-addon';
export { conv3dFlops } from './conv3d-params';
export { instanceNorm } from './instance-norm';
