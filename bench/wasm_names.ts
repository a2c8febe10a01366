// Names and signatures of wasm functions, read from the binary: for CPU profiles of the benches (V8 shows frames of a
// module without a name section as "wasm-function[i]") and for the tests that check the kernel tables against
// the builds.

/** A wasm value type by its name in the text format. */
export type WasmValueType = "i32" | "i64" | "f32" | "f64" | "v128" | "funcref" | "externref";

const VALUE_TYPES: Record<number, WasmValueType> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref" };

/** What {@link readFunctions} finds: the function exports, and every function's parameter types. */
interface WasmFunctions {
  /** Export name and function index, in export order. */
  exports: Array<[string, number]>;
  /** Function index -> parameter types; indices count imported functions first, as export indices do. */
  params: WasmValueType[][];
}

/**
 * Walks the type (1), import (2), function (3) and export (7) sections; the others are skipped by size.
 */
function readFunctions(bytes: Uint8Array): WasmFunctions {
  let p = 8;
  const u32 = () => {
    let r = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[p++];
      r |= (b & 0x7f) << shift;
      if (b < 0x80) return r >>> 0;
    }
  };
  const name = () => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(p, p + n));
    p += n;
    return s;
  };
  const valueTypes = () => Array.from({ length: u32() }, () => VALUE_TYPES[bytes[p++]]);
  const types: WasmValueType[][] = [];
  const params: WasmValueType[][] = [];
  const exports: Array<[string, number]> = [];
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 1) {
      for (let n = u32(); n > 0; n--) {
        p++; // 0x60: a function type
        types.push(valueTypes());
        valueTypes();
      }
    } else if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        name();
        name();
        const kind = bytes[p++];
        if (kind === 0) params.push(types[u32()]);
        else if (kind === 1) { p++; const f = bytes[p++]; u32(); if (f & 1) u32(); }
        else if (kind === 2) { const f = bytes[p++]; u32(); if (f & 1) u32(); }
        else if (kind === 3) { p += 2; }
      }
    } else if (id === 3) {
      for (let n = u32(); n > 0; n--) params.push(types[u32()]);
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const nm = name();
        const kind = bytes[p++];
        const index = u32();
        if (kind === 0) exports.push([nm, index]);
      }
    }
    p = end;
  }
  return { exports, params };
}

/**
 * Function index -> export name of a wasm binary (V8 profiles name wasm frames "wasm-function[i]" when the module
 * has no name section; i counts imported functions first, as export indices do).
 */
export function wasmFunctionNames(bytes: Uint8Array): Map<number, string> {
  const names = new Map<number, string>();
  for (const [name, index] of readFunctions(bytes).exports) if (!names.has(index)) names.set(index, name);
  return names;
}

/** Export name -> parameter types of every exported function of a wasm binary. */
export function wasmExportParams(bytes: Uint8Array): Map<string, WasmValueType[]> {
  const { exports, params } = readFunctions(bytes);
  return new Map(exports.map(([name, index]) => [name, params[index]]));
}
