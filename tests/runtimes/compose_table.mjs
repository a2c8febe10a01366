// Writes the supported-runtimes table (bench/results/runtimes.md) from the rows the runtime
// matrix's host tests saved in tmp/runtimes/. Run by the vitest global setup after every run
// that includes the matrix, or by hand: node tests/runtimes/compose_table.mjs
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const RESULTS_DIR = join(ROOT, "tmp", "runtimes");
export const TABLE = join(ROOT, "bench", "results", "runtimes.md");
/** Every row the matrix makes, in table order; the table is written only when all are present. */
export const HOSTS = ["node", "node (relaxed flag)", "deno", "bun", "chromium (isolated)", "chromium (not isolated)", "workerd", "edge-runtime"];

const NAMES = { node: "Node", deno: "Deno", bun: "Bun", chromium: "Chromium", workerd: "workerd", "edge-runtime": "edge-runtime (Vercel)" };

function label(row) {
  const variant = /\((.*)\)/.exec(row.host)?.[1];
  return `${NAMES[row.runtime] ?? row.runtime}${variant ? ` (${variant})` : ""}`;
}

/** The markdown table of `rows` (see harness.ts RuntimeRow). */
export function renderTable(rows) {
  const lines = [
    "| runtime | version | build chosen | threads | golden cases | strict-SIMD bits = Node | demo translations | start → answer | network | why not more |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const r of rows) {
    const why = r.notes.length ? r.notes.join("; ").replaceAll("|", "\\|") : "";
    let start = r.coldStartMs === undefined ? "" : `${r.coldStartMs} ms`;
    if (r.firstTranslationMs !== undefined) start += ` (first translation ${r.firstTranslationMs} ms)`;
    lines.push(`| ${label(r)} | ${r.version} | ${r.build} | ${r.threads} | ${r.pass ? "pass" : "FAIL"} (${r.cases}) | ${r.strictBitIdentical ? "yes" : "NO"} | ${r.translateMs === undefined ? "" : `${r.translateMs} ms`} | ${start} | ${r.network} | ${why} |`);
  }
  return lines.join("\n");
}

/**
 * Reads the rows saved at or after `since` (ms epoch; 0 = any); writes the table if every
 * host reported. Returns what it did.
 */
export function composeTable(since = 0) {
  if (!existsSync(RESULTS_DIR)) return { written: false, missing: HOSTS };
  const rows = readdirSync(RESULTS_DIR)
    .filter((f) => f.endsWith(".json"))
    .map((f) => JSON.parse(readFileSync(join(RESULTS_DIR, f), "utf8")))
    .filter((r) => (r.at ?? 0) >= since);
  const byHost = new Map(rows.map((r) => [r.host, r]));
  const missing = HOSTS.filter((h) => !byHost.has(h));
  if (missing.length > 0) return { written: false, missing };
  const body = [
    "# Supported runtimes",
    "",
    "Written by the runtime matrix (`npm test`, tests/runtimes/): each host imports the built, npm-packed",
    "package the way its users do and runs the same golden cases (tests/fixtures/runtimes/golden.json) with the",
    "build it picks by itself, with strict SIMD on one thread (output bits must equal Node's) and with strict SIMD on",
    "the host's threads (bits must equal one thread's). Start → answer: process",
    "start to report (workerd: to the first HTTP response, median of 3, and to the first POST /translate answer;",
    "Chromium: page load to report). Demo translations: loading the default translator and translating its demo",
    "sentences one at a time under \"auto\", while the other hosts run too (workerd freezes its clocks while a",
    "request computes, so none there).",
    "",
    renderTable(HOSTS.map((h) => byHost.get(h))),
    "",
  ].join("\n");
  mkdirSync(dirname(TABLE), { recursive: true });
  writeFileSync(TABLE, body);
  return { written: true, missing: [] };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const r = composeTable();
  console.log(r.written ? `wrote ${TABLE}` : `not written: no rows for ${r.missing.join(", ")} (run npx vitest run tests/runtimes)`);
}
