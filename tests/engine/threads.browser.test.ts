// The thread pool's browser path, in Debian's Chromium on a cross-origin isolated page:
// module Web Workers started from dist/worker.js, the main thread waiting with
// Atomics.waitAsync (it may not block), a worker trap -> WorkerError, then a rebuilt pool.
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// @ts-expect-error plain JS example without types
import { startServer } from "../../examples/browser/server.mjs";

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic"];

const PAGE = `<!doctype html><script type="module">
import { createRuntime } from "./dist/index.js";
const report = {};
try {
  report.canBlock = (() => { try { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); return true; } catch { return false; } })();
  const rt = await createRuntime({ threads: 3 });
  Object.assign(report, { threads: rt.features.threads, build: rt.features.build });
  const e = rt.engine, n = 4096, rows = 16, p = e.regions.scratch.alloc(3 * n * 4), q = n / rows;
  for (let i = 0; i < n; i++) { e.mem.f32[(p >> 2) + i] = i; e.mem.f32[(p >> 2) + n + i] = 0.5; }
  const tasks = Array.from({ length: rows }, (_, r) => [q, p + r * q * 4, p + (n + r * q) * 4, p + (2 * n + r * q) * 4]);
  await e.runTasks("f32_add", tasks);
  report.sumOk = e.mem.f32.subarray((p >> 2) + 2 * n, (p >> 2) + 3 * n).every((x, i) => x === i + 0.5);
  const err = await e.runTasks("f32_add", [tasks[0], tasks[1], [q, 0x7fff0000, p, p]]).catch((x) => x);
  report.error = err && err.name + ": " + err.message;
  e.mem.f32.fill(0, (p >> 2) + 2 * n, (p >> 2) + 3 * n);
  await e.runTasks("f32_add", tasks);
  report.afterRebuildOk = e.mem.f32.subarray((p >> 2) + 2 * n, (p >> 2) + 3 * n).every((x, i) => x === i + 0.5);
  rt.dispose();
} catch (x) {
  report.failure = String(x && x.stack || x);
}
window.__report = report;
</script>`;

describe.skipIf(!existsSync(CHROMIUM))("thread pool in Chromium", () => {
  let dir: string;
  let server: { url: string; close: () => Promise<void> };
  let ctx: BrowserContext;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "simdformer-threads-"));
    cpSync(fileURLToPath(new URL("../../dist/", import.meta.url)), join(dir, "dist"), { recursive: true });
    writeFileSync(join(dir, "index.html"), PAGE);
    server = await startServer({ root: dir, isolated: true });
    ctx = await chromium.launchPersistentContext(join(dir, "profile"), { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
  }, 60_000);

  afterAll(async () => {
    await ctx?.close().catch(() => {});
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs tasks on Web Workers, waits with waitAsync, recovers from a worker trap", async () => {
    const page = await ctx.newPage();
    const log: string[] = [];
    page.on("pageerror", (e) => log.push(e.message));
    await page.goto(`${server.url}index.html`);
    await page.waitForFunction(() => (window as { __report?: unknown }).__report !== undefined, undefined, { timeout: 20_000 });
    const report = await page.evaluate(() => (window as unknown as { __report: Record<string, unknown> }).__report);
    await page.close();
    expect(report.failure, log.join("\n")).toBeUndefined();
    expect(report).toMatchObject({ canBlock: false, threads: 3, build: "relaxed-shared", sumOk: true, afterRebuildOk: true });
    expect(report.error).toMatch(/^WorkerError: worker 2: RuntimeError: memory access out of bounds/);
  });
});
