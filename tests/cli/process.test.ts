// The built bin and bundle as a user's shell runs them (run after the build: `npm test` builds first).
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { FORMATS_DIR } from "../formats/fixtures.js";

const dist = new URL("../../dist/", import.meta.url);

/** Runs node with `args`; `closeStdout` closes our end of its stdout pipe at once, as `| head` does when done. */
function runNode(args: string[], closeStdout: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    if (closeStdout) child.stdout.destroy();
    else child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the simdformer bin in a pipe", () => {
  const model = new URL("llama2c/model.bin", FORMATS_DIR).pathname;
  it.each([
    ["generate", "--threads", "1", "--model", model, "the cat sat on"],
    ["info", "--threads", "1"],
    ["translate", "--threads", "1", "I like deep learning"],
  ])("%s: a reader that closed stdout ends the process quietly with status 0", async (...argv) => {
    const r = await runNode([new URL("cli.js", dist).pathname, ...argv], true);
    expect(r.stderr).not.toMatch(/EPIPE|Error|at /);
    expect(r.code).toBe(0);
  });

  it("generate with stdout read: the text there, the stats line on stderr", async () => {
    const r = await runNode([new URL("cli.js", dist).pathname, "generate", "--threads", "1", "--model", model, "--max-tokens", "4", "the cat sat on"], false);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^the cat sat on.+\n$/s);
    expect(r.stdout).not.toMatch(/tok\/s/);
    expect(r.stderr).toMatch(/decode [\d,-]+ tok\/s/);
  });
});

describe("simdformer bench from dist", () => {
  it("loads dist/bench.js on demand and prints one JSON row per kernel x shape x build", async () => {
    const r = await runNode([new URL("cli.js", dist).pathname, "bench", "--json", "f32_add n=1"], false);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { kernel: string; shape: string; build: string; stats: { medianUs: number } });
    // The bin enables relaxed SIMD, so both default builds run.
    expect(rows.map((x) => [x.kernel, x.shape, x.build])).toEqual([["f32_add", "n=1", "simd"], ["f32_add", "n=1", "relaxed"]]);
    for (const x of rows) expect(x.stats.medianUs).toBeGreaterThan(0);
  });
});

describe("an uncaught error from the minified bundle", () => {
  it("a forced build the host cannot run: the message, a stack, and no long line of bundle source", async () => {
    const script = `import { createRuntime } from ${JSON.stringify(new URL("index.js", dist).href)};\nawait createRuntime({ simd: "relaxed", threads: 1 });`;
    // Relaxed SIMD off (Node 20's default; newer Nodes ship it): the forced build cannot run.
    const r = await runNode(["--no-experimental-wasm-relaxed-simd", "--input-type=module", "-e", script], false);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/UnsupportedFeatureError: simd: "relaxed" forced, but/);
    expect(r.stderr).toMatch(/at chooseBuild/);
    // Node prints the throw site's source line: the bundle keeps its lines short (esbuild lineLimit).
    expect(Math.max(...r.stderr.split("\n").map((l) => l.length))).toBeLessThan(2000);
    expect(r.stderr.length).toBeLessThan(5000);
  });
});
