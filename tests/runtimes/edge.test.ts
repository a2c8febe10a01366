// Runtime matrix, edge-runtime (Vercel's edge sandbox): the golden cases bundled with the
// packed package into one script and evaluated in an EdgeRuntime VM in a child node process;
// the wasm goes in as bytes/module (no fs in the VM), and there are no workers: one thread.
// The same VM then embeds texts with the sentence encoder fixture (the edge's embedding path).
import { cpSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type GoldenReport, ROOT, killChildren, nodeReference, makeConsumer, parseReport, recordRow, removeDir, rowOf, runChild, expectedAutoBuild, problems,
} from "./harness.js";
import { networkLabel, offline } from "./offline.js";
import { ref as encoderRef } from "../encode/fixtures.js";
import { relError } from "../model/helpers.js";

describe("runtime matrix: edge-runtime", () => {
  let dir: string;
  let reference: GoldenReport;

  beforeAll(async () => {
    dir = makeConsumer("edge");
    cpSync(join(ROOT, "tests/runtimes/hosts/edge_main.js"), join(dir, "edge_main.js"));
    // One classic script, resolved with the edge bundlers' conditions; import.meta is empty in it.
    await esbuild.build({
      absWorkingDir: dir,
      entryPoints: ["edge_main.js"],
      outfile: "edge_bundle.js",
      bundle: true,
      format: "iife",
      platform: "neutral",
      target: "es2022",
      conditions: ["edge-light", "worker", "browser"],
      external: ["node:*"],
      logLevel: "error",
    });
    reference = await nodeReference();
  });
  afterAll(() => {
    killChildren();
    removeDir(dir);
  });

  test("the golden bundle passes inside the EdgeRuntime VM", async () => {
    const o = offline(process.execPath, [
      join(ROOT, "tests/runtimes/hosts/edge_host.mjs"), join(dir, "edge_bundle.js"), join(dir, "node_modules/simdformer/dist/wasm"), join(dir, "assets"),
      join(ROOT, "tests/fixtures/encoders/bert"), JSON.stringify(encoderRef.meta.texts),
    ]);
    const r = await runChild(o.cmd, o.args, { cwd: ROOT, timeoutMs: 30_000 });
    const report = parseReport(r, "edge-runtime VM");
    const version = JSON.parse(readFileSync(createRequire(import.meta.url).resolve("edge-runtime/package.json"), "utf8")).version;
    console.log(`edge-runtime ${version}: build ${report.runs[0].features?.build}, start->report ${r.ms.toFixed(0)} ms`);
    expect(report.runtime).toBe("edge-runtime");
    expect(problems(report, reference)).toEqual([]);
    const auto = report.runs[0].features!;
    // The VM has no Worker; its ISA is the host Node's (plain Node 20: no relaxed SIMD).
    expect(auto.build).toBe(expectedAutoBuild(report));
    expect(auto.host.threads).toBe(false);
    expect(auto.notes.join(" ")).toMatch(/no Worker/);
    // The sentence encoder in the same VM: its vectors are PyTorch's.
    const line = r.stdout.split("\n").find((l) => l.startsWith("EMBED "));
    expect(line, r.stderr.slice(-2000)).toBeDefined();
    const embedded = JSON.parse(line!.slice("EMBED ".length)) as { dims: number; embeddings: number[][] };
    expect(embedded.dims).toBe(32);
    encoderRef.meta.texts.forEach((_, i) => expect(relError(embedded.embeddings[i], encoderRef.tensor(`bert.${i}.mean_normalized`))).toBeLessThan(1e-5));
    recordRow(rowOf("edge-runtime", { ...report, version }, { strictBitIdentical: true, coldStartMs: Math.round(r.ms), network: networkLabel(o.netns) }));
  });
});
