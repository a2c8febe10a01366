// Runtime matrix, Deno: `npm:simdformer` / bare imports resolved from node_modules
// (deno.json nodeModulesDir "manual"), fresh DENO_DIR, --cached-only --no-remote, no network.
import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  BIN, type GoldenReport, ROOT, killChildren, nodeReference, makeConsumer, parseReport, recordRow, removeDir, rowOf, runChild, expectedAutoBuild, demoTranslation, problems,
} from "./harness.js";
import { networkLabel, offline } from "./offline.js";

const deno = BIN("deno");

describe.skipIf(!existsSync(deno))("runtime matrix: Deno", () => {
  let dir: string;
  let reference: GoldenReport;
  const env = () => ({ ...process.env, DENO_DIR: join(dir, ".deno-cache"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" });
  const run = async (file: string) => {
    const o = offline(deno, ["run", "--cached-only", "--no-remote", "--no-prompt", "--allow-read=.", file]);
    return { netns: o.netns, ...await runChild(o.cmd, o.args, { cwd: dir, timeoutMs: 30_000, env: env() }) };
  };

  beforeAll(async () => {
    dir = makeConsumer("deno");
    cpSync(join(ROOT, "tests/runtimes/hosts/golden_main.mjs"), join(dir, "golden_main.mjs"));
    cpSync(join(ROOT, "examples/deno"), dir, { recursive: true });
    reference = await nodeReference();
  });
  afterAll(() => {
    killChildren();
    removeDir(dir);
  });

  test("deno imports the installed package and passes the golden cases", async () => {
    const r = await run("golden_main.mjs");
    const report = parseReport(r, "deno golden_main.mjs");
    console.log(`deno ${report.version}: build ${report.runs[0].features?.build}, start->report ${r.ms.toFixed(0)} ms`);
    expect(report.runtime).toBe("deno");
    expect(problems(report, reference)).toEqual([]);
    expect(report.runs[0].features?.host.relaxedSimd).toBe(true);
    expect(report.runs[0].features?.build).toBe(expectedAutoBuild(report));
    recordRow(rowOf("deno", report, { strictBitIdentical: true, coldStartMs: Math.round(r.ms), network: networkLabel(r.netns) }));
  });

  test("examples/deno runs", async () => {
    const r = await run("main.ts");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^simdformer on Deno 2\.[\d.]+: build relaxed/m);
    expect(r.stdout).toMatch(/dot = 1000(\.\d+)? \(expected 1000\)/);
    const demo = demoTranslation();
    expect(r.stdout).toContain(`${demo.src} -> ${demo.text}\n`);
  });
});
