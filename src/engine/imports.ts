/** The import object every build is instantiated with, on the engine's thread and in workers alike. */
export function wasmImports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return { env: { memory } };
}
