// The playground page (examples/playground) in Debian's Chromium through playwright-core, as
// the runtime matrix drives it: served by its own server with the strict CSP, once cross-origin
// isolated and once not. Translates the classic sentence, checks the heatmap's cells, runs the
// quick kernel bench (rows for all three libraries, downloaded as JSON), loads a model file and
// a file that is none, and takes a screenshot of each panel into test-output/playground/
// (checked non-blank; the README shows the copies in docs/playground/).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
// @ts-expect-error plain JS example without types
import { CSP, startPlayground } from "../../examples/playground/server.mjs";
import { ROOT, removeDir } from "../runtimes/harness.js";

const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic"];
const OUT = join(ROOT, "test-output", "playground");
const missing = !existsSync(CHROMIUM) || !existsSync(join(ROOT, "dist", "index.js"));

type Server = { url: string; close: () => Promise<void> };

interface Row { suite: string; case: string; impl: string; threads: number; metric: string; value: number; unit: string }

describe.skipIf(missing)("playground page in Chromium", () => {
  let profile: string;
  let ctx: BrowserContext | undefined;
  let isolated: Server | undefined;
  let plain: Server | undefined;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), "simdformer-playground-profile-"));
    isolated = await startPlayground({ isolated: true });
    plain = await startPlayground({ isolated: false });
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000, acceptDownloads: true, viewport: { width: 1100, height: 800 },
    });
  }, 90_000);

  afterAll(async () => {
    await ctx?.close().catch(() => {});
    await isolated?.close();
    await plain?.close();
    removeDir(profile);
  });

  /** Opens the page, collecting console errors and CSP reports; waits until the runtime and the first translation are done. */
  async function open(url: string): Promise<{ page: Page; problems: string[] }> {
    const page = await ctx!.newPage();
    const problems: string[] = [];
    page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    const res = await page.goto(url, { timeout: 30_000 });
    expect(res?.headers()["content-security-policy"]).toBe(CSP);
    await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
    expect(await page.getAttribute("body", "data-ready"), problems.join("\n")).toBe("true");
    await page.waitForSelector("#translate-output[data-state=done]", { timeout: 60_000 });
    return { page, problems };
  }

  /** A screenshot of the page into test-output/playground/, checked to be more than one colour. */
  async function shot(page: Page, name: string): Promise<void> {
    const png = await page.screenshot({ fullPage: true });
    writeFileSync(join(OUT, `${name}.png`), png);
    // Decoded by a blank tab's canvas: the share of pixels that differ from the commonest one.
    const blank = await ctx!.newPage();
    const busy = await blank.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width;
      c.height = img.height;
      const g = c.getContext("2d")!;
      g.drawImage(img, 0, 0);
      const px = new Uint32Array(g.getImageData(0, 0, c.width, c.height).data.buffer);
      const counts = new Map<number, number>();
      for (const p of px) counts.set(p, (counts.get(p) ?? 0) + 1);
      return { colors: counts.size, other: 1 - Math.max(...counts.values()) / px.length };
    }, png.toString("base64"));
    await blank.close();
    expect(busy.colors, name).toBeGreaterThan(50);
    expect(busy.other, name).toBeGreaterThan(0.02);
  }

  const tab = (page: Page, name: string) => page.click(`.tabs button[data-panel=${name}]`);

  test("isolated: strict CSP, translation, heatmap, kernel bench, own model; a screenshot per panel", async () => {
    const { page, problems } = await open(isolated!.url);
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    // The CSP is in force: an inline script the page inserts is refused, with a violation report.
    const inline = await page.evaluate(() => new Promise<string>((resolve) => {
      document.addEventListener("securitypolicyviolation", (e) => resolve(`blocked ${e.effectiveDirective}`), { once: true });
      const s = document.createElement("script");
      s.textContent = "window.__inlineRan = true";
      document.head.append(s);
      setTimeout(() => resolve((window as { __inlineRan?: boolean }).__inlineRan ? "ran" : "no report"), 2000);
    }));
    expect(inline).toBe("blocked script-src-elem");
    problems.length = 0; // the console error of that refusal
    expect(await page.textContent("#translate-output")).toBe("我喜欢深度学习");
    const stats = await page.textContent("#translate-stats");
    expect(stats).toMatch(/prefill.*tok\/s.*decode.*tok\/s.*first token.*ms/);
    const runtime = await page.textContent("#runtime");
    expect(runtime).toMatch(/build relaxed-shared/);
    expect(runtime).toMatch(/[2-9] threads/);
    await shot(page, "translate");

    // Attention: one cell per generated x source token, labelled with the tokens.
    await tab(page, "attention");
    const view = page.locator("#attention-view");
    const rows = Number(await view.getAttribute("data-rows"));
    const cols = Number(await view.getAttribute("data-cols"));
    expect(rows).toBeGreaterThan(1);
    expect(cols).toBeGreaterThan(1);
    expect(await view.locator("svg rect.cell").count()).toBe(rows * cols);
    expect(await view.locator("svg text.row-label").count()).toBe(rows);
    expect(await view.locator("svg text.col-label").count()).toBe(cols);
    expect(await view.locator("svg text.col-label").allTextContents()).toContain("learning");
    await page.selectOption("#attention-head", "all");
    expect(await view.locator("svg rect.cell").count()).toBeGreaterThan(rows * cols);
    await page.selectOption("#attention-head", "mean");
    await shot(page, "attention");

    // Kernel bench, quick shapes: rows for simdformer (both builds, 1 and N threads) and both peers.
    await tab(page, "bench");
    await page.selectOption("#bench-size", "quick");
    await page.click("#bench-run");
    await page.waitForSelector("#bench-status[data-state=done], #bench-status[data-state=error]", { timeout: 180_000 });
    expect(await page.getAttribute("#bench-status", "data-state"), await page.textContent("#bench-status") ?? "").toBe("done");
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#bench-download")]);
    const results = JSON.parse(readFileSync((await download.path())!, "utf8")) as { rows: Row[]; peers: unknown[] };
    writeFileSync(join(OUT, "bench.json"), JSON.stringify(results, null, 2));
    for (const r of results.rows) {
      expect(Object.keys(r).sort()).toEqual(["case", "impl", "metric", "suite", "threads", "unit", "value"]);
      if (r.metric === "max_error_vs_ours") expect(r.value, `${r.impl} ${r.case}`).toBeLessThanOrEqual(1e-3);
    }
    const timed = (impl: string) => new Set(results.rows.filter((r) => r.impl === impl && r.metric === "median_time").map((r) => `${r.case} ${r.threads}`));
    for (const impl of ["simdformer/strict", "simdformer/relaxed", "onnxruntime-web", "tfjs-wasm"]) expect(timed(impl).size, impl).toBeGreaterThanOrEqual(5);
    expect(results.rows.some((r) => r.impl === "simdformer/strict" && r.threads > 1 && r.metric === "median_time")).toBe(true);
    expect(await page.locator("#bench-chart svg rect").count()).toBeGreaterThan(20);
    await shot(page, "bench");

    // Your own model: a file that is no model gives the typed error; then a real one loads and generates.
    await tab(page, "model");
    await page.setInputFiles("#model-file", { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("these are not the weights you are looking for\n".repeat(20)) });
    await page.waitForSelector("#model-error:not([hidden])", { timeout: 20_000 });
    expect(await page.textContent("#model-error")).toMatch(/^ModelFormatError: /);
    await page.setInputFiles("#model-file", join(ROOT, "models", "default", "translator.safetensors"));
    await page.waitForSelector("#model-status[data-state=loaded]", { timeout: 30_000 });
    expect(await page.isHidden("#model-error")).toBe(true);
    await page.click("#model-run");
    await page.waitForSelector("#model-output[data-state=done]", { timeout: 30_000 });
    expect(await page.textContent("#model-output")).toBe("我喜欢深度学习");
    await shot(page, "own-model");

    // The page kept working: another translation, beam search.
    await tab(page, "translate");
    await page.selectOption("#translate-decoding", "beam");
    await page.fill("#translate-input", "I read books in the library");
    await page.click("#translate-run");
    await page.waitForSelector("#translate-output[data-state=done]", { timeout: 30_000 });
    expect((await page.textContent("#translate-output"))!.length).toBeGreaterThan(2);
    expect(await page.textContent("#translate-stats")).toMatch(/4 beams/);
    expect(problems).toEqual([]);
    await page.close();
  }, 300_000);

  test("not isolated: one thread, says why, still translates; a peer that cannot load is reported", async () => {
    const { page, problems } = await open(plain!.url);
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(false);
    expect(await page.textContent("#translate-output")).toBe("我喜欢深度学习");
    expect(await page.textContent("#runtime")).toMatch(/1 thread(?!s)/);
    expect(await page.textContent("#runtime-details")).toMatch(/isolat|SharedArrayBuffer/i);
    expect(problems).toEqual([]);
    // onnxruntime-web's files made unreachable: the bench says so and runs the others.
    await page.route("**/vendor/onnxruntime-web/**", (route) => route.fulfill({ status: 404, body: "gone" }));
    await tab(page, "bench");
    await page.selectOption("#bench-size", "quick");
    await page.click("#bench-run");
    await page.waitForSelector("#bench-status[data-state=done], #bench-status[data-state=error]", { timeout: 180_000 });
    expect(await page.getAttribute("#bench-status", "data-state"), await page.textContent("#bench-status") ?? "").toBe("done");
    const failed = await page.locator("#bench-peers li.failed").allTextContents();
    expect(failed.join("\n")).toMatch(/onnxruntime-web could not load/);
    expect(failed.join("\n")).toMatch(/not cross-origin isolated/);
    expect(await page.locator("#bench-chart svg text", { hasText: "tfjs-wasm · 1t" }).count()).toBe(5);
    expect(await page.locator("#bench-chart svg text", { hasText: "onnxruntime-web" }).count()).toBe(0);
    expect(await page.locator("#bench-chart svg text", { hasText: "· 2t" }).count()).toBe(0);
    await page.close();
  }, 240_000);
});
