// Runtime matrix, Bun: the package from node_modules, --no-install (no auto-install, no
// registry), no network. Bun is JavaScriptCore, so this is the non-V8 engine of the matrix.
import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  BIN, type GoldenReport, ROOT, killChildren, nodeReference, makeConsumer, parseReport, recordRow, removeDir, rowOf, runChild, expectedAutoBuild, demoTranslation, problems,
} from "./harness.js";
import { networkLabel, offline } from "./offline.js";

const bun = BIN("bun");

describe.skipIf(!existsSync(bun))("runtime matrix: Bun", () => {
  let dir: string;
  let reference: GoldenReport;
  const run = async (file: string) => {
    const o = offline(bun, ["--no-install", file]);
    return { netns: o.netns, ...await runChild(o.cmd, o.args, { cwd: dir, timeoutMs: 30_000, env: { ...process.env, NO_COLOR: "1", DO_NOT_TRACK: "1" } }) };
  };

  beforeAll(async () => {
    dir = makeConsumer("bun");
    cpSync(join(ROOT, "tests/runtimes/hosts/golden_main.mjs"), join(dir, "golden_main.mjs"));
    cpSync(join(ROOT, "examples/bun"), dir, { recursive: true });
    reference = await nodeReference();
  });
  afterAll(() => {
    killChildren();
    removeDir(dir);
  });

  test("bun imports the installed package and passes the golden cases", async () => {
    const r = await run("golden_main.mjs");
    const report = parseReport(r, "bun golden_main.mjs");
    console.log(`bun ${report.version}: build ${report.runs[0].features?.build}, start->report ${r.ms.toFixed(0)} ms`);
    expect(report.runtime).toBe("bun");
    expect(problems(report, reference)).toEqual([]);
    // JavaScriptCore validates relaxed SIMD; "auto" must take it.
    expect(report.runs[0].features?.host.relaxedSimd).toBe(true);
    expect(report.runs[0].features?.build).toBe(expectedAutoBuild(report));
    recordRow(rowOf("bun", report, { strictBitIdentical: true, coldStartMs: Math.round(r.ms), network: networkLabel(r.netns) }));
  });

  test("examples/bun runs", async () => {
    const r = await run("main.ts");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^simdformer on Bun 1\.[\d.]+: build relaxed/m);
    expect(r.stdout).toMatch(/dot = 1000(\.\d+)? \(expected 1000\)/);
    const demo = demoTranslation();
    expect(r.stdout).toContain(`${demo.src} -> ${demo.text}\n`);
  });
});
