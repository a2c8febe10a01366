// Runs the playground's Kernel bench (standard shapes) in Debian's Chromium, headless, and
// writes what its "Download results JSON" button gives to bench/results/playground.json, with
// the machine's load average before and after (the machine is shared: read ratios, not times).
// Usage: node examples/playground/bench.mjs [--quick] [--chromium /usr/bin/chromium]
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startPlayground } from "./server.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const arg = (name) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : undefined; };
const quick = process.argv.includes("--quick");
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic"];

const load = () => loadavg().map((x) => Number(x.toFixed(2)));
const loadBefore = load();
const server = await startPlayground({ isolated: true });
const browser = await chromium.launch({ executablePath: arg("--chromium") ?? "/usr/bin/chromium", headless: true, args: FLAGS });
try {
  const page = await browser.newPage({ acceptDownloads: true });
  await page.goto(server.url + "#bench");
  await page.waitForSelector("body[data-ready]", { timeout: 60_000 });
  await page.selectOption("#bench-size", quick ? "quick" : "standard");
  await page.click("#bench-run");
  await page.waitForSelector("#bench-status[data-state=done], #bench-status[data-state=error]", { timeout: 600_000 });
  if ((await page.getAttribute("#bench-status", "data-state")) !== "done") throw new Error(await page.textContent("#bench-status"));
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#bench-download")]);
  const results = JSON.parse(readFileSync(await download.path(), "utf8"));
  results.machine = { ...results.machine, chromium: browser.version(), loadAverageBefore: loadBefore, loadAverageAfter: load() };
  const out = join(ROOT, "bench", "results", "playground.json");
  writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  for (const r of results.rows.filter((x) => x.metric === "median_time")) {
    console.log(`${r.case.padEnd(26)} ${`${r.impl} ${r.threads}t`.padEnd(24)} ${r.value.toFixed(1).padStart(9)} us`);
  }
  console.log(`wrote ${out} (load ${loadBefore.join(" ")} -> ${load().join(" ")})`);
} finally {
  await browser.close();
  await server.close();
}
