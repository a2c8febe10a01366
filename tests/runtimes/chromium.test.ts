// Runtime matrix, Chromium (Debian's /usr/bin/chromium driven by playwright-core): the golden
// page served twice from node:http on loopback, once cross-origin isolated (COOP + COEP on
// the page and the worker script: threads) and once not (one thread, and features say why).
import { cpSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
// @ts-expect-error plain JS example without types
import { startServer } from "../../examples/browser/server.mjs";
import {
  type GoldenReport, ROOT, nodeReference, makeConsumer, recordRow, removeDir, rowOf, expectedAutoBuild, demoTranslation, problems,
} from "./harness.js";

const CHROMIUM = "/usr/bin/chromium";
/** Flags known to work headless on this machine kind (shared/RUNTIMES.md); playwright adds --headless. */
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic"];
const missing = !existsSync(CHROMIUM);
if (missing) console.warn(`runtime matrix: ${CHROMIUM} not found, Chromium tests skipped (CI installs it: apt-get install chromium)`);

type Server = { url: string; close: () => Promise<void> };

describe.skipIf(missing)("runtime matrix: Chromium", () => {
  let dir: string;
  let profile: string;
  let ctx: BrowserContext | undefined;
  let isolated: Server | undefined;
  let plain: Server | undefined;
  let reference: GoldenReport;
  let version = "";

  beforeAll(async () => {
    dir = makeConsumer("chromium");
    cpSync(join(ROOT, "tests/runtimes/hosts/golden.html"), join(dir, "golden.html"));
    cpSync(join(ROOT, "examples/browser"), dir, { recursive: true });
    profile = mkdtempSync(join(tmpdir(), "simdformer-chromium-profile-"));
    isolated = await startServer({ root: dir, isolated: true });
    plain = await startServer({ root: dir, isolated: false });
    ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
    version = ctx.browser()?.version() ?? "";
    reference = await nodeReference();
  }, 60_000);

  afterAll(async () => {
    await ctx?.close().catch(() => {});
    await isolated?.close();
    await plain?.close();
    removeDir(profile);
    removeDir(dir);
  });

  /** Opens `url` in a new tab, waits for the golden page's report (time-bounded). */
  async function golden(url: string): Promise<{ report: GoldenReport & { crossOriginIsolated: boolean; error?: string }; ms: number; log: string[] }> {
    const page = await ctx!.newPage();
    const log: string[] = [];
    page.on("console", (m) => log.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => log.push(`pageerror: ${e.message}`));
    try {
      const t0 = performance.now();
      await page.goto(url, { timeout: 20_000 });
      await page.waitForFunction(() => (window as { __golden?: unknown }).__golden !== undefined, undefined, { timeout: 20_000 });
      const ms = performance.now() - t0;
      const report = await page.evaluate(() => (window as unknown as { __golden: GoldenReport & { crossOriginIsolated: boolean } }).__golden);
      return { report, ms, log };
    } finally {
      await page.close();
    }
  }

  test("cross-origin isolated page: threads, golden cases pass", async () => {
    const { report, ms, log } = await golden(isolated!.url + "golden.html");
    expect(report.error, log.join("\n")).toBeUndefined();
    console.log(`chromium ${report.version}: build ${report.runs[0].features?.build}, ${report.runs[0].features?.threads} threads, load->report ${ms.toFixed(0)} ms`);
    expect(report.runtime).toBe("chromium");
    expect(report.crossOriginIsolated).toBe(true);
    expect(problems(report, reference), log.join("\n")).toEqual([]);
    const auto = report.runs[0].features!;
    expect(auto.host.threads).toBe(true);
    expect(auto.host.relaxedSimd).toBe(true);
    expect(auto.build).toBe(expectedAutoBuild(report));
    recordRow(rowOf("chromium (isolated)", { ...report, version: version || report.version }, { strictBitIdentical: true, coldStartMs: Math.round(ms), network: "loopback" }));
  });

  test("page without COOP/COEP: single-thread fallback that names the reason", async () => {
    const { report, ms, log } = await golden(plain!.url + "golden.html");
    expect(report.error, log.join("\n")).toBeUndefined();
    expect(report.crossOriginIsolated).toBe(false);
    expect(problems(report, reference), log.join("\n")).toEqual([]);
    const auto = report.runs[0].features!;
    expect(auto.host.threads).toBe(false);
    expect(auto.threads).toBe(1);
    expect(auto.build).toBe("relaxed");
    expect(auto.notes.join(" ")).toMatch(/cross-origin isolated/);
    recordRow(rowOf("chromium (not isolated)", { ...report, version: version || report.version }, { strictBitIdentical: true, coldStartMs: Math.round(ms), network: "loopback" }));
  });

  test("examples/browser page runs", async () => {
    const page = await ctx!.newPage();
    try {
      await page.goto(isolated!.url + "index.html", { timeout: 20_000 });
      await page.waitForFunction(() => document.title === "done", undefined, { timeout: 20_000 });
      const text = await page.textContent("#out");
      expect(text).toMatch(/^build relaxed(-shared)?, \d+ thread\(s\), crossOriginIsolated true/);
      expect(text).toMatch(/dot = 1000(\.\d+)? \(expected 1000\)/);
      const demo = demoTranslation();
      expect(text).toContain(`${demo.src} -> ${demo.text}`);
    } finally {
      await page.close();
    }
  });
});
