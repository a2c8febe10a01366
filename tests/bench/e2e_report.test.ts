import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { barChartSvg, fmt } from "../../bench/e2e_svg.js";
import { wasmFunctionNames } from "../../bench/wasm_names.js";
import { parseXml } from "../viz/xml.js";

// A module importing one function and one memory, defining two functions exported as "a" and "b" (indices 1 and 2:
// imported functions come first in the index space).
const str = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, body: number[]) => [id, body.length, ...body];
const TINY = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [1, 0x60, 0, 0]),
  ...section(2, [2, ...str("m"), ...str("f"), 0x00, 0, ...str("m"), ...str("mem"), 0x02, 0x00, 1]),
  ...section(3, [2, 0, 0]),
  ...section(7, [2, ...str("a"), 0x00, 1, ...str("b"), 0x00, 2]),
  ...section(10, [2, 2, 0, 0x0b, 2, 0, 0x0b]),
]);

describe("wasmFunctionNames", () => {
  it("maps function indices (imports counted first) to export names", () => {
    expect(WebAssembly.validate(TINY)).toBe(true);
    expect([...wasmFunctionNames(TINY)]).toEqual([[1, "a"], [2, "b"]]);
  });

  it("names every exported function of our SIMD build", () => {
    const bytes = readFileSync(new URL("../../dist/wasm/simdformer.simd.wasm", import.meta.url));
    const exported = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).filter((e) => e.kind === "function").map((e) => e.name);
    const names = new Set(wasmFunctionNames(bytes).values());
    // Two exports may share one function (aliases): the map keeps one name per index.
    for (const n of names) expect(exported).toContain(n);
    expect(names.size).toBeGreaterThan(exported.length / 2);
  });
});

describe("barChartSvg", () => {
  const series = [{ name: "ours <1T>", color: "#00f" }, { name: "peer", color: "#f00" }];
  const svg = barChartSvg("tokens & time", "note", series, [
    { title: "Decode", unit: "tokens/s", groups: [{ label: "m1", values: [1200, 300] }, { label: "m2", values: [45, undefined] }] },
  ]);

  it("is well-formed XML with escaped text", () => {
    const els = parseXml(svg);
    expect(els[0].name).toBe("svg");
    expect(els.some((e) => e.name === "text" && e.text === "tokens &amp; time")).toBe(true);
    expect(els.some((e) => e.name === "text" && e.text === "ours &lt;1T&gt;")).toBe(true);
  });

  it("draws one bar per measured value, longer for larger values, and n/a for a missing one", () => {
    const bars = parseXml(svg).filter((e) => e.name === "rect" && e.attrs.height === "13");
    expect(bars.map((b) => b.attrs.fill)).toEqual(["#00f", "#f00", "#00f"]);
    const w = bars.map((b) => Number(b.attrs.width));
    expect(w[0]).toBeGreaterThan(w[1]);
    expect(w[1]).toBeGreaterThan(w[2]);
    expect(svg).toContain(">n/a<");
    expect(svg).toContain(`>${fmt(1200)}<`);
  });
});
