import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createRuntime, OutOfMemoryError, UnsupportedFeatureError, ArgumentError, DisposedError } from "../../src/index.js";
import { BUILDS, chooseBuild } from "../../src/engine/builds.js";
import { detectFeatures, type HostFeatures } from "../../src/engine/features.js";
import { ALIGN } from "../../src/engine/memory.js";

const wasmBytes = (build: string) => readFileSync(new URL(`../../dist/wasm/simdformer.${build}.wasm`, import.meta.url));

afterEach(() => vi.restoreAllMocks());

describe("feature detection", () => {
  it("finds SIMD, relaxed SIMD (flag set in setup) and threads on Node", async () => {
    const f = await detectFeatures();
    expect(f).toMatchObject({ simd: true, relaxedSimd: true, threads: true });
    expect(f.hardwareConcurrency).toBeGreaterThanOrEqual(1);
  });

  it("says why relaxed SIMD is missing when the engine rejects it", async () => {
    const real = WebAssembly.validate;
    vi.spyOn(WebAssembly, "validate").mockImplementation((b) => {
      const bytes = new Uint8Array(b as ArrayBuffer);
      return bytes.includes(0x85) && bytes.length < 60 ? false : real(b);
    });
    const f = await detectFeatures();
    expect(f.simd).toBe(true);
    expect(f.relaxedSimd).toBe(false);
    expect(f.reasons.relaxedSimd).toMatch(/relaxed/);
  });
});

describe("build choice", () => {
  const host = (o: Partial<HostFeatures>): HostFeatures => ({
    simd: true, relaxedSimd: true, threads: true, hardwareConcurrency: 4, reasons: {}, ...o,
  });

  it("takes the best build the host offers", () => {
    expect(chooseBuild(host({}), "auto", true).build).toBe("relaxed-shared");
    expect(chooseBuild(host({}), "auto", false).build).toBe("relaxed");
    expect(chooseBuild(host({ relaxedSimd: false, reasons: { relaxedSimd: "x" } }), "auto", true).build).toBe("simd-shared");
    expect(chooseBuild(host({ simd: false, relaxedSimd: false }), "auto", true).build).toBe("scalar");
  });

  it("falls back to one thread with the reason when there is no shared memory", () => {
    const c = chooseBuild(host({ threads: false, reasons: { threads: "no Worker in this host" } }), "auto", true);
    expect(c.build).toBe("relaxed");
    expect(c.notes.join()).toMatch(/no Worker/);
  });

  it("refuses a forced ISA the host lacks", () => {
    expect(() => chooseBuild(host({ relaxedSimd: false, reasons: { relaxedSimd: "nope" } }), "relaxed", false)).toThrow(UnsupportedFeatureError);
    expect(() => chooseBuild(host({ simd: false }), "strict", false)).toThrow(UnsupportedFeatureError);
  });
});

describe("createRuntime", () => {
  it.each(BUILDS)("instantiates the %s build when forced", async (build) => {
    const rt = await createRuntime({ build });
    expect(rt.features.build).toBe(build);
    expect(rt.features.sharedMemory).toBe(build.endsWith("-shared"));
    expect(rt.kernels.build_info() & 1).toBe(build === "scalar" ? 0 : 1);
    rt.dispose();
  });

  it.each([["relaxed", "relaxed"], ["strict", "simd"], ["scalar", "scalar"]] as const)(
    "simd: %s with one thread gives %s", async (simd, build) => {
      const rt = await createRuntime({ simd, threads: 1 });
      expect(rt.features.build).toBe(build);
      expect(rt.features.threads).toBe(1);
      rt.dispose();
    });

  it("fails with UnsupportedFeatureError when a forced build is not supported", async () => {
    const real = WebAssembly.validate;
    vi.spyOn(WebAssembly, "validate").mockImplementation((b) => {
      const bytes = new Uint8Array(b as ArrayBuffer);
      return bytes.includes(0x85) && bytes.length < 60 ? false : real(b);
    });
    await expect(createRuntime({ simd: "relaxed" })).rejects.toThrow(UnsupportedFeatureError);
    await expect(createRuntime({ build: "relaxed-shared" })).rejects.toThrow(UnsupportedFeatureError);
  });

  it("fails with UnsupportedFeatureError for a shared build without SharedArrayBuffer", async () => {
    vi.stubGlobal("SharedArrayBuffer", undefined);
    try {
      await expect(createRuntime({ build: "simd-shared" })).rejects.toThrow(/SharedArrayBuffer/);
      const rt = await createRuntime({ threads: 2 });
      expect(rt.features.threads).toBe(1);
      expect(rt.features.notes.join()).toMatch(/SharedArrayBuffer/);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("loads from bytes", async () => {
    const rt = await createRuntime({ wasm: { bytes: wasmBytes("simd") } });
    expect(rt.features.build).toBe("simd");
    rt.dispose();
  });

  it("loads from a precompiled Module of either memory kind and names its build", async () => {
    for (const build of ["simd", "relaxed-shared", "scalar"] as const) {
      const module = new WebAssembly.Module(wasmBytes(build));
      const rt = await createRuntime({ wasm: { module } });
      expect(rt.features.build).toBe(build);
      rt.dispose();
    }
  });

  it("loads from a path to the wasm folder", async () => {
    const rt = await createRuntime({ build: "simd", wasm: { url: new URL("../../dist/wasm/", import.meta.url) } });
    expect(rt.features.build).toBe("simd");
  });

  it("rejects a module that is not the build asked for", async () => {
    const module = new WebAssembly.Module(wasmBytes("simd"));
    await expect(createRuntime({ build: "scalar", wasm: { module } })).rejects.toThrow(ArgumentError);
  });

  it("rejects bad thread counts", async () => {
    await expect(createRuntime({ threads: 0 })).rejects.toThrow(ArgumentError);
    await expect(createRuntime({ threads: 1.5 })).rejects.toThrow(/integer/);
  });

  it("throws DisposedError after dispose", async () => {
    const rt = await createRuntime({ threads: 1 });
    rt.dispose();
    expect(() => rt.kernels).toThrow(DisposedError);
  });
});

describe("memory regions", () => {
  it("hands out aligned, disjoint blocks and reuses freed ones", async () => {
    const rt = await createRuntime({ threads: 1 });
    const { weights } = rt.engine.regions;
    const a = weights.alloc(3);
    const b = weights.alloc(100);
    const c = weights.alloc(1);
    for (const p of [a, b, c]) expect(p % ALIGN).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 3);
    expect(c).toBeGreaterThanOrEqual(b + 100);
    weights.release(b);
    expect(weights.alloc(64)).toBe(b);
    rt.dispose();
  });

  it("grows the memory past its initial size", async () => {
    const rt = await createRuntime({ threads: 1, initialMemory: 65536 });
    const p = rt.engine.regions.weights.alloc(8 << 20);
    rt.engine.mem.f32[(p >> 2) + (2 << 20) - 1] = 1.5;
    expect(rt.engine.mem.byteLength).toBeGreaterThanOrEqual(p + (8 << 20));
    rt.dispose();
  });

  it("throws OutOfMemoryError naming the region and bytes past a region limit", async () => {
    const rt = await createRuntime({ threads: 1, limits: { kv: 1 << 20 } });
    const err = (() => { try { rt.engine.regions.kv.alloc(2 << 20); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect(err).toMatchObject({ region: "kv", requestedBytes: 2 << 20 });
    rt.dispose();
  });

  it("throws OutOfMemoryError past maxMemory, not a RangeError", async () => {
    const rt = await createRuntime({ threads: 1, maxMemory: 4 << 20 });
    expect(rt.features.maxMemoryBytes).toBe(4 << 20);
    expect(() => rt.engine.regions.weights.alloc(8 << 20)).toThrow(OutOfMemoryError);
    expect(() => rt.engine.regions.weights.alloc(8 << 20)).toThrow(/weights.*8388608/);
    rt.dispose();
  });

  it("features.maxMemoryBytes is 1 GiB unless maxMemory says otherwise", async () => {
    const rt = await createRuntime({ threads: 1 });
    expect(rt.features.maxMemoryBytes).toBe(1024 * 1024 * 1024);
    rt.dispose();
  });

  it("scratch reset keeps one chunk big enough for the last pass", async () => {
    const rt = await createRuntime({ threads: 1 });
    const s = rt.engine.scratch;
    const before = rt.engine.regions.scratch.usedBytes;
    s.alloc(3 << 20);
    s.alloc(3 << 20);
    s.reset();
    const steady = rt.engine.regions.scratch.usedBytes;
    expect(steady).toBeGreaterThanOrEqual(6 << 20);
    const p = s.alloc(3 << 20);
    const q = s.alloc(3 << 20);
    expect(q - p).toBe(3 << 20);
    s.reset();
    expect(rt.engine.regions.scratch.usedBytes).toBe(steady);
    expect(before).toBe(0);
    rt.dispose();
  });
});
