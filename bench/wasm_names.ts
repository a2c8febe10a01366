// Names of wasm functions for CPU profiles of the benches (V8 shows frames of a module without a name section as
// "wasm-function[i]").

/**
 * Function index -> export name of a wasm binary (V8 profiles name wasm frames "wasm-function[i]" when the module
 * has no name section; i counts imported functions first, as export indices do). The import section (2) is
 * walked only to skip it; the export section (7) gives the names.
 */
export function wasmFunctionNames(bytes: Uint8Array): Map<number, string> {
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
  const names = new Map<number, string>();
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = u32();
    const end = p + size;
    if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        name();
        name();
        const kind = bytes[p++];
        if (kind === 0) u32();
        else if (kind === 1) { p++; const f = bytes[p++]; u32(); if (f & 1) u32(); }
        else if (kind === 2) { const f = bytes[p++]; u32(); if (f & 1) u32(); }
        else if (kind === 3) { p += 2; }
      }
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const nm = name();
        const kind = bytes[p++];
        const index = u32();
        if (kind === 0 && !names.has(index)) names.set(index, nm);
      }
    }
    p = end;
  }
  return names;
}
