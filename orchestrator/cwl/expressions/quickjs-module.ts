import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { QuickJSWASMModule } from 'quickjs-emscripten';

const PAGE_BYTES = 64 * 1024;
/** The release build's INITIAL_MEMORY (its data, C stack and first heap); a memory cannot start smaller. */
const INITIAL_BYTES = 16 * 1024 * 1024;

/** The WebAssembly calls used here: Node's typings without the DOM lib declare only some of the namespace. */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WebAssembly.Module>;
  Memory: new (descriptor: { initial: number; maximum: number }) => { buffer: ArrayBuffer };
}
const wasm = (): WasmApi => (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

// The compiled WebAssembly module, shared by every sandbox of the process: compiling is the costly
// step, instantiating a compiled module takes a few milliseconds. Filled on first use, not at import.
let compiled: Promise<WebAssembly.Module> | undefined;

function compileQuickJs(): Promise<WebAssembly.Module> {
  if (!compiled) {
    const loading = (async () => {
      // The .wasm beside the copy of the variant that quickjs-emscripten loads: glue and binary must match.
      const fromPackage = createRequire(createRequire(import.meta.url).resolve('quickjs-emscripten'));
      return wasm().compile(await readFile(fromPackage.resolve('@jitl/quickjs-wasmfile-release-sync/wasm')));
    })();
    compiled = loading;
    loading.catch(() => {
      if (compiled === loading) compiled = undefined; // let a later call retry
    });
  }
  return compiled;
}

/** A QuickJS instance with its own capped WebAssembly memory. */
export interface QuickJsInstance {
  module: QuickJSWASMModule;
  /**
   * Whether the memory has grown to (nearly) its cap. Emscripten grows the memory by at least 5% at a
   * time, so an allocation can fail with up to that much of the cap still unused: within a tenth of the
   * cap counts as full.
   */
  memoryFull(): boolean;
}

/**
 * A fresh QuickJS instance (synchronous release build) whose WebAssembly memory cannot grow past
 * `memoryLimitBytes`. The cap is what actually bounds memory: QuickJS's own `setMemoryLimit` only
 * rejects single allocations in this build, because emscripten reports no `malloc_usable_size`
 * (quickjs-emscripten issues #255, #271). At the cap, allocations fail and QuickJS throws
 * "out of memory" — or `null`, when even that error cannot be allocated. An instance is also the unit
 * thrown away if the engine faults.
 */
export async function instantiateQuickJs(memoryLimitBytes: number): Promise<QuickJsInstance> {
  const wasmModule = await compileQuickJs();
  const maximum = Math.ceil(Math.max(memoryLimitBytes, INITIAL_BYTES) / PAGE_BYTES);
  const wasmMemory = new (wasm().Memory)({ initial: INITIAL_BYTES / PAGE_BYTES, maximum });
  // Loaded on first use: a process that evaluates no JavaScript never pays for it.
  const { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC } = await import('quickjs-emscripten');
  const module = await newQuickJSWASMModuleFromVariant(newVariant(RELEASE_SYNC, { wasmModule, wasmMemory }));
  return { module, memoryFull: () => wasmMemory.buffer.byteLength >= 0.9 * maximum * PAGE_BYTES };
}
