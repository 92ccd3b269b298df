export {
  registerFastKernels,
  restoreOriginalKernels,
  type FastKernelOptions,
  type KernelLog,
} from './register';
export { loadNativeKernels, type NativeKernels } from './native-addon';
export { conv3dFlops } from './conv3d-params';
export { instanceNorm } from './instance-norm';
