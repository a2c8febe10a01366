// Runtime matrix, Node 20: the vitest process itself (relaxed-SIMD flag from tests/setup.ts)
// and a plain `node` child, both importing the built package; plus examples/node.
import { cpSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type GoldenReport, ROOT, killChildren, nodeReference, makeConsumer, parseReport, recordRow, removeDir, rowOf, runChild, expectedAutoBuild, demoTranslation, problems,
} from "./harness.js";
import { networkLabel, offline } from "./offline.js";

describe("runtime matrix: Node", () => {
  let dir: string;
  let reference: GoldenReport;

  beforeAll(async () => {
    dir = makeConsumer("node");
    cpSync(join(ROOT, "tests/runtimes/hosts/golden_main.mjs"), join(dir, "golden_main.mjs"));
    cpSync(join(ROOT, "examples/node"), dir, { recursive: true });
    reference = await nodeReference();
  });
  afterAll(() => {
    killChildren();
    removeDir(dir);
  });

  test("the vitest process runs the golden cases through dist/index.js", async () => {
    // The golden module imports "simdformer" by name: it must resolve to the built bundle.
    const byName = "simdformer";
    const viaName = await import(/* @vite-ignore */ byName);
    const viaDist = await import(/* @vite-ignore */ join(ROOT, "dist/index.js"));
    expect(viaName.createRuntime).toBe(viaDist.createRuntime);
    expect(problems(reference, reference)).toEqual([]);
    expect(reference.runtime).toBe("node");
    // tests/setup.ts turns relaxed SIMD on, so "auto" must have picked a relaxed build.
    expect(reference.runs[0].features?.build).toBe(expectedAutoBuild(reference));
    recordRow(rowOf("node (relaxed flag)", reference, { strictBitIdentical: true, network: "test process" }));
  });

  test("plain `node` imports the installed package and passes", async () => {
    const o = offline(process.execPath, ["golden_main.mjs"]);
    const r = await runChild(o.cmd, o.args, { cwd: dir, timeoutMs: 20_000 });
    const report = parseReport(r, "node golden_main.mjs");
    console.log(`node ${report.version}: build ${report.runs[0].features?.build}, start->report ${r.ms.toFixed(0)} ms`);
    expect(problems(report, reference)).toEqual([]);
    // Without the flag Node 20 has no relaxed SIMD; where a build is passed over, features say why.
    const auto = report.runs[0].features!;
    expect(auto.build).toBe(expectedAutoBuild(report));
    if (!auto.host.relaxedSimd) expect(auto.notes.join(" ")).toMatch(/relaxed/);
    recordRow(rowOf("node", report, { strictBitIdentical: true, coldStartMs: Math.round(r.ms), network: networkLabel(o.netns) }));
  });

  test("examples/node runs", async () => {
    const o = offline(process.execPath, ["main.mjs"]);
    const r = await runChild(o.cmd, o.args, { cwd: dir, timeoutMs: 20_000 });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^simdformer on Node \d+\.[\d.]+: build (simd|relaxed)/m);
    expect(r.stdout).toMatch(/dot = 1000(\.\d+)? \(expected 1000\)/);
    const demo = demoTranslation();
    expect(r.stdout).toContain(`${demo.src} -> ${demo.text}\n`);
  });
});
