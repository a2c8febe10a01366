import { describe, expect, it } from "vitest";
import { f16Table, f16ToF32 } from "../../src/tensor/half.js";

describe("f16Table", () => {
  it("widens every one of the 65536 halves exactly as f16ToF32 does (NaN stays NaN)", () => {
    const t = f16Table();
    let mismatches = 0;
    for (let h = 0; h < 65536; h++) {
      const want = f16ToF32(h);
      if (Number.isNaN(want) ? !Number.isNaN(t[h]) : !Object.is(t[h], Math.fround(want))) mismatches++;
    }
    expect(mismatches).toBe(0);
  });
});
