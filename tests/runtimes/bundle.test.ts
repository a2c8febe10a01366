// What the built package ships (run after the build: `npm test` builds first). `import
// "simdformer"` must reach none of the kernel registry (float64 references, case makers) or the
// kernel timer: they are the `simdformer/bench` entry, dist/bench.js. Checked on the files that
// dist/index.js reaches and on what bundlers make of the packed package for workerd and the edge.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importGraph, shippedSize } from "../../scripts/dist_size.mjs";
import { ROOT, killChildren, makeConsumer, removeDir, runChild } from "./harness.js";

const DIST = join(ROOT, "dist");
// A property of every registry entry (esbuild never renames properties) and two functions' names
// (kept: keepNames), one of the registry, one of the timer; none is named outside them (the CLI
// names runKernelSuite, so that one would not do).
const BENCH_MARKERS = ["benchShapes", "axisSizes", "prepareKernel"];
/** DESIGN.md's ceiling for the JS and one wasm build, gzipped. */
const MAX_SHIPPED_GZIP = 150 * 1024;

/** "file: marker" for each marker found in each of `files` (names in `dir`). */
const markersIn = (files: string[], dir = DIST) =>
  files.flatMap((f) => BENCH_MARKERS.filter((m) => readFileSync(join(dir, f), "utf8").includes(m)).map((m) => `${f}: ${m}`));

describe("the built package", () => {
  it("simdformer/bench (dist/bench.js) holds the registry and the timer", () => {
    const bench = importGraph(DIST, "bench.js");
    for (const m of BENCH_MARKERS) expect(markersIn(bench).some((hit) => hit.endsWith(`: ${m}`)), m).toBe(true);
  });

  it("import \"simdformer\" reaches none of it, nor does the worker", () => {
    const index = importGraph(DIST, "index.js");
    expect(index).not.toContain("bench.js");
    expect(markersIn(index)).toEqual([]);
    expect(markersIn(importGraph(DIST, "worker.js"))).toEqual([]);
  });

  it("the CLI reaches it only through its lazily imported bench.js", () => {
    const cli = importGraph(DIST, "cli.js");
    expect(cli).toContain("bench.js");
    const bench = new Set(importGraph(DIST, "bench.js"));
    expect(markersIn(cli.filter((f) => !bench.has(f)))).toEqual([]);
  });

  it(`the JS of the default import and one wasm build are at most ${MAX_SHIPPED_GZIP / 1024} KiB gzipped`, () => {
    const s = shippedSize(DIST);
    console.log(`shipped: ${s.files.map((f) => `${f.file} ${f.gzip}`).join(", ")}: ${s.bytes} bytes, ${s.gzip} gzipped (${(s.gzip / 1024).toFixed(1)} KiB)`);
    expect(s.gzip).toBeLessThanOrEqual(MAX_SHIPPED_GZIP);
  });
});

describe("the packed package", () => {
  let dir: string;
  beforeAll(() => {
    dir = makeConsumer("bench");
  });
  afterAll(() => {
    killChildren();
    removeDir(dir);
  });

  it("resolves by the exports map, with its types, and times a kernel", async () => {
    const pkg = join(dir, "node_modules", "simdformer");
    const { exports } = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { exports: Record<string, Record<string, string>> };
    expect(existsSync(join(pkg, exports["./bench"].types))).toBe(true);
    const script = [
      'import { KERNELS, runKernelSuite } from "simdformer/bench";',
      "const timing = { warmupMs: 1, sampleMs: 1, samples: 3, minSamples: 3, maxMs: 10 };",
      'const rows = await runKernelSuite({ builds: ["simd"], filter: "f32_add n=1", timing });',
      "console.log(JSON.stringify({ kernels: KERNELS.map((e) => e.name), rows: rows.map((r) => [r.kernel, r.shape, r.build]) }));",
    ].join("\n");
    const r = await runChild(process.execPath, ["--input-type=module", "-e", script], { cwd: dir, timeoutMs: 30_000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { kernels: string[]; rows: string[][] };
    expect(out.kernels).toContain("f32_gemm");
    expect(out.rows).toEqual([["f32_add", "n=1", "simd"]]);
  });

  it("bundled for workerd (examples/worker/build.mjs) and for the edge runtime, carries none of simdformer/bench", async () => {
    const pkg = join(dir, "node_modules", "simdformer");
    const out = join(dir, "worker-out");
    const build = await runChild(process.execPath, [join(ROOT, "examples/worker/build.mjs"), "--package", pkg, "--out", out], { cwd: ROOT, timeoutMs: 30_000 });
    expect(build.stderr).toBe("");
    expect(build.code).toBe(0);
    expect(markersIn(["worker.js"], out)).toEqual([]);
    // What an edge bundler makes of the whole default import (edge.test.ts's conditions).
    writeFileSync(join(dir, "edge_entry.js"), 'import * as simdformer from "simdformer";\nglobalThis.simdformer = simdformer;\n');
    await esbuild.build({
      absWorkingDir: dir, entryPoints: ["edge_entry.js"], outfile: "edge_bundle.js", bundle: true, format: "iife",
      platform: "neutral", target: "es2022", conditions: ["edge-light", "worker", "browser"], external: ["node:*"], logLevel: "error",
    });
    expect(markersIn(["edge_bundle.js"], dir)).toEqual([]);
  });
});
