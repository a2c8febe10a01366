// GGUF k-quants (Q4_K, Q6_K super-blocks of 256): read as float32 they equal ggml's
// dequantize_row_q4_K / _q6_K (mirrored in numpy by tools/format_fixtures.py) bit for bit; as
// linear weights they are handed to the k-quant kernels as stored (no requantization).
import { describe, expect, it } from "vitest";
import { parseGguf } from "../../src/formats/gguf.js";
import { dequantizeMatrix } from "../../src/tensor/quant_blocks.js";
import { fixtureBytes, ref } from "./fixtures.js";

describe("GGUF Q4_K / Q6_K", () => {
  const g = parseGguf(fixtureBytes("kquants.gguf"), "kquants.gguf");

  it.each([["q4_k", "Q4_K", [2, 512]], ["q6_k", "Q6_K", [4, 256]]] as const)("%s: shape, type, values", (name, type, shape) => {
    expect(g.info(name)).toMatchObject({ type, shape, dims: [...shape].reverse() });
    const got = g.read(name);
    const want = ref.tensor(`kquants.${name}`);
    expect(got.length).toBe(want.length);
    let mismatches = 0;
    for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) mismatches++;
    expect(mismatches).toBe(0);
    // For the quantized linear op: the file's own blocks, a view of its bytes.
    const q = g.quantized(name)!;
    expect(q).toMatchObject({ type: name, rows: shape[0], cols: shape[1] });
    expect(q.blocks).toEqual(g.raw(name));
    expect(dequantizeMatrix(q)).toEqual(got);
  });

  it("a row that is not a whole number of super-blocks is a ModelFormatError", () => {
    const b = new Uint8Array(fixtureBytes("kquants.gguf"));
    const name = new TextEncoder().encode("q6_k");
    let at = -1;
    for (let i = 0; i < b.length && at < 0; i++) if (name.every((x, j) => b[i + j] === x)) at = i;
    new DataView(b.buffer).setBigUint64(at + name.length + 4, 128n, true); // ne[0] 256 -> 128
    expect(() => parseGguf(b, "kquants.gguf")).toThrow(/tensor "q6_k" dims\[0\]: expected a multiple of 256 \(Q6_K blocks\), found 128/);
  });
});
