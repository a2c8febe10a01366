// The soak script (scripts/soak.mjs) in a short run: ~12 s of mixed requests, aborts, throwing
// callbacks, hostile prompts and create/dispose cycles over three runtimes of the built package;
// wasm pages, regions, OS threads and the heap must end where they started.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("../../scripts/soak.mjs", import.meta.url));

describe("soak (short)", () => {
  it("runs ~12 s of mixed load with flat memory, threads and no failures", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", script, "--duration", "12", "--cycle-every", "100", "--out", "-"], {
      maxBuffer: 16 << 20,
      timeout: 90_000,
    }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`soak failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
    });
    const summary = JSON.parse(stdout.trim().split("\n").pop()!);
    expect(summary.failures).toEqual([]);
    expect(summary.flat).toBe(true);
    expect(summary.ok).toBe(true);
    expect(summary.counts.requests).toBeGreaterThan(200);
    expect(summary.counts.cycles).toBeGreaterThanOrEqual(2);
    for (const k of ["translate", "stream", "beam", "generate", "aborted", "callbackFaults", "hostile"]) expect(summary.counts[k], k).toBeGreaterThan(0);
    expect(summary.end.threads).toBe(summary.start.threads);
  }, 120_000);
});
