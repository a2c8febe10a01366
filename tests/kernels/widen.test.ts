// Every one of the 65536 halves through the load-time widening kernels, bit for bit (NaN
// payloads and -0 included, which the registry's value comparison does not see), in place as
// the streamed loader runs them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { f16Table } from "../../src/tensor/half.js";

const N = 65536;

describe.each(["scalar", "simd", "relaxed"] as const)("widening on the %s build", (build) => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ build });
  });
  afterAll(() => rt.dispose());

  /** Runs `kernel` over all halves placed in the tail of the output, returns the output's bits. */
  const widenAll = (kernel: "f16_widen" | "bf16_widen") => {
    const dst = rt.engine.scratch.alloc(4 * N);
    new Uint16Array(rt.engine.mem.memory.buffer, dst + 2 * N, N).set(Uint16Array.from({ length: N }, (_, h) => h));
    rt.kernels[kernel](N, dst + 2 * N, dst);
    const bits = new Uint32Array(rt.engine.mem.memory.buffer, dst, N).slice();
    rt.engine.scratch.reset();
    return bits;
  };

  it("f16_widen matches the bit-built table for every half, NaNs with their payload and sign", () => {
    const table = new Uint32Array(f16Table().buffer);
    const isNaN16 = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    const want = Uint32Array.from({ length: N }, (_, h) => (isNaN16(h) ? ((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13) : table[h]));
    const got = widenAll("f16_widen");
    const bad = got.findIndex((b, h) => b !== want[h]);
    expect(bad, bad >= 0 ? `half 0x${bad.toString(16)}: 0x${got[bad].toString(16)} != 0x${want[bad].toString(16)}` : "").toBe(-1);
  });

  it("bf16_widen gives every bfloat16 as the top half of its float", () => {
    const got = widenAll("bf16_widen");
    const bad = got.findIndex((b, h) => b !== (h << 16) >>> 0);
    expect(bad).toBe(-1);
  });
});
