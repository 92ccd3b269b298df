/**
 * The part of the WebAssembly JavaScript API the SIMD kernels use, typed here because this workspace compiles
 * against ES2022 + Node types only (no DOM lib; @types/node 20 does not declare WebAssembly). Reached through
 * globalThis, so it is the same object in Node and in a browser.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

export interface WasmGlobal {
  value: number;
}

// A branded opaque handle: only `compile` makes one.
export interface WasmModule {
  readonly __wasmModule: unique symbol;
}

export type WasmExports = Record<string, unknown>;

export interface WasmInstance {
  readonly exports: WasmExports;
}

export type WasmImports = Record<string, Record<string, unknown>>;

export interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: WasmImports): Promise<WasmInstance>;
  Instance: new (module: WasmModule, imports: WasmImports) => WasmInstance;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Global: abstract new (...args: never[]) => WasmGlobal;
}

/** The engine's WebAssembly object, or null where there is none. */
export function webAssemblyApi(): WebAssemblyApi | null {
  const api = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  return api ?? null;
}

export function isWasmMemory(value: unknown): value is WasmMemory {
  const api = webAssemblyApi();
  return api !== null && value instanceof (api.Memory as unknown as abstract new () => object);
}

export function isWasmGlobal(value: unknown): value is WasmGlobal {
  const api = webAssemblyApi();
  return api !== null && value instanceof (api.Global as unknown as abstract new () => object);
}
