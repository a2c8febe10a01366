// Shared plumbing of the runtime matrix (tests/runtimes/*.test.ts): a consumer folder with
// the packed package installed, bounded child processes, free ports, report parsing and the
// per-host result rows that compose_table.mjs turns into bench/results/runtimes.md.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RESULTS_DIR } from "./compose_table.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const BIN = (name: string) => join(ROOT, "node_modules", ".bin", name);
export const GOLDEN_JSON = join(ROOT, "tests", "fixtures", "runtimes", "golden.json");
/** The line prefix of a host's JSON report on stdout (hosts may print other lines). */
export const REPORT_PREFIX = "GOLDEN ";

/** What golden.js returns (see its runGolden). */
export interface GoldenReport {
  runtime: string;
  version: string;
  pass: boolean;
  runs: Array<{
    label: string;
    pass: boolean;
    error?: string;
    ms?: number;
    features?: {
      build: string;
      threads: number;
      notes: string[];
      host: { simd: boolean; relaxedSimd: boolean; threads: boolean; hardwareConcurrency: number; reasons: Record<string, string> };
    };
    results: Array<{ name: string; pass: boolean; error?: string; maxErr?: number; bound?: number; hash?: string; ms?: number }>;
  }>;
}

export function loadGolden(): { cases: unknown[]; assets: Record<string, string> } {
  return JSON.parse(readFileSync(GOLDEN_JSON, "utf8"));
}

/** Node's own report, in the test process (relaxed SIMD on, per tests/setup.ts): the reference the hosts' bits are held to. */
export async function nodeReference(): Promise<GoldenReport> {
  const fixture = loadGolden();
  const { runGolden } = await import("./golden.js");
  return runGolden(fixture, { asset: async (name) => new Uint8Array(readFileSync(join(ROOT, fixture.assets[name]))) });
}

/** The default translator's demo sentences with PyTorch's translations (tools/translator). */
export function demoTranslations(): Array<{ src: string; text: string }> {
  const fx = JSON.parse(readFileSync(join(ROOT, "tests/fixtures/translator/heldout.json"), "utf8"));
  return fx.demos.map((d: { src: string; pred: string }) => ({ src: d.src, text: d.pred }));
}

/** The first demo sentence and its translation: what the examples print. */
export function demoTranslation(): { src: string; text: string } {
  return demoTranslations()[0];
}

/** The built package must exist: the matrix tests dist/, not src/. */
export function assertBuilt(): void {
  for (const f of ["dist/index.js", "dist/wasm/simdformer.simd.wasm"]) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run \`node scripts/build.mjs\` (npm test does) before the runtime matrix`);
  }
}

/**
 * `npm pack` of the repository into `dir`; returns the tarball's name. Retried: a build
 * running at the same time (another vitest run, a developer) replaces dist/'s chunk files,
 * and a pack that lists a file just before it is deleted fails.
 */
function packOnce(dir: string): string {
  let last = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = spawnSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], {
      cwd: ROOT, encoding: "utf8", timeout: 30_000, env: { ...process.env, npm_config_update_notifier: "false" },
    });
    if (r.status === 0) return r.stdout.trim().split("\n").pop()!;
    last = `exit ${r.status ?? r.signal}: ${r.stderr || r.error?.message}`;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000); // 1 s, synchronously
  }
  throw new Error(`npm pack failed 3 times; last: ${last}`);
}

/**
 * What `npm install` would add next to the package, without a registry: its runtime
 * dependencies (and theirs), copied from this repository's node_modules.
 */
function installDependencies(pkgDir: string, nodeModules: string, seen = new Set<string>()): void {
  const { dependencies = {} } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  for (const name of Object.keys(dependencies)) {
    if (seen.has(name)) continue;
    seen.add(name);
    const from = join(ROOT, "node_modules", name);
    if (!existsSync(from)) throw new Error(`dependency ${name} of ${pkgDir} is not installed in ${ROOT}/node_modules (run npm install)`);
    cpSync(from, join(nodeModules, name), { recursive: true, dereference: true });
    installDependencies(from, nodeModules, seen);
  }
}

/**
 * A fresh folder laid out like a user's project: node_modules/simdformer is the npm-packed
 * package (so `files` and `exports` are what users get), plus golden.js and golden.json.
 * Returns its path; remove it with removeDir in afterAll.
 */
export function makeConsumer(host: string): string {
  assertBuilt();
  const dir = mkdtempSync(join(tmpdir(), `simdformer-${host}-`));
  const pkg = join(dir, "node_modules", "simdformer");
  mkdirSync(pkg, { recursive: true });
  const tgz = join(dir, packOnce(dir));
  execFileSync("tar", ["xzf", tgz, "-C", pkg, "--strip-components=1"], { timeout: 30_000 });
  rmSync(tgz);
  installDependencies(pkg, join(dir, "node_modules"));
  cpSync(join(ROOT, "tests", "runtimes", "golden.js"), join(dir, "golden.js"));
  cpSync(GOLDEN_JSON, join(dir, "golden.json"));
  // The models the golden cases load, where every host driver looks for them: assets/<name>.
  for (const [name, path] of Object.entries(loadGolden().assets)) cpSync(join(ROOT, path), join(dir, "assets", name));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `consumer-${host}`, private: true, type: "module" }));
  return dir;
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

const live = new Set<ChildProcess>();

/** Kills every child still running (call in afterAll). */
export function killChildren(): void {
  for (const c of live) c.kill("SIGKILL");
  live.clear();
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Runs a command to completion, killed after `timeoutMs`. Never rejects: check the result. */
export function runChild(cmd: string, args: string[], opts: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<ChildResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - t0, timedOut });
    };
    child.on("error", (e) => {
      stderr += String(e);
      done(null, null);
    });
    child.on("close", done);
  });
}

/** Starts a long-running child (a server); killChildren or stopChild ends it. */
export function startChild(cmd: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): { child: ChildProcess; output: () => string } {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  child.on("exit", () => live.delete(child));
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return { child, output: () => out };
}

/** The report a host printed (the line after REPORT_PREFIX), or an error with its output. */
export function parseReport(r: ChildResult, what: string): GoldenReport {
  const line = r.stdout.split("\n").find((l) => l.startsWith(REPORT_PREFIX));
  if (!line) {
    const why = r.timedOut ? "timed out" : `exited with ${r.code ?? r.signal}`;
    throw new Error(`${what} ${why} without a report.\nstdout: ${r.stdout.slice(-2000)}\nstderr: ${r.stderr.slice(-2000)}`);
  }
  return JSON.parse(line.slice(REPORT_PREFIX.length));
}

/** A loopback port free right now (the host binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Lines naming every failed case of a report (empty when all passed), for assertion messages. */
export function failures(report: GoldenReport): string[] {
  const out: string[] = [];
  for (const run of report.runs) {
    if (run.error) out.push(`${run.label}: ${run.error}`);
    for (const r of run.results) {
      if (!r.pass) out.push(`${run.label} / ${r.name}: ${r.error ?? `max error ${r.maxErr} > bound ${r.bound}`}`);
    }
  }
  return out;
}

/** Hashes of one run's cases by name. */
function hashes(report: GoldenReport, label: string): Map<string, string | undefined> | undefined {
  const run = report.runs.find((r) => r.label === label);
  return run && new Map(run.results.map((r) => [r.name, r.hash]));
}

/** Cases of run `label` in `report` whose output bits differ from run `refLabel` of `reference`. */
function mismatches(report: GoldenReport, label: string, reference: GoldenReport, refLabel: string, refName: string): string[] {
  const mine = hashes(report, label);
  const ref = hashes(reference, refLabel);
  if (!mine || !ref) return [`no ${mine ? refLabel : label} run`];
  const out: string[] = [];
  for (const [name, hash] of mine) if (hash !== ref.get(name)) out.push(`${label} / ${name}: hash ${hash}, ${refName} ${ref.get(name)}`);
  return out;
}

/**
 * Cases whose strict-SIMD output bits differ from `reference` (Node's, computed in the test
 * process). Strict SIMD is deterministic in wasm, so any difference is a bug in a host or in us.
 */
export function strictMismatches(report: GoldenReport, reference: GoldenReport): string[] {
  return mismatches(report, "strict", reference, "strict", "node");
}

/** Cases whose bits change between one thread and the host's threads (strict SIMD both). */
export function threadMismatches(report: GoldenReport): string[] {
  return mismatches(report, "strict-threads", report, "strict", "one thread");
}

/**
 * The strict-threads run must have used every core where the host has threads (so the
 * thread pool really ran the split cases) and one thread where it has none.
 */
export function poolProblems(report: GoldenReport): string[] {
  const f = report.runs.find((r) => r.label === "strict-threads")?.features;
  if (!f) return ["no strict-threads run"];
  const want = f.host.threads ? f.host.hardwareConcurrency : 1;
  return f.threads === want ? [] : [`strict-threads: ${f.threads} threads, expected ${want} (${f.notes.join("; ")})`];
}

/**
 * The build "auto" must pick from what the host validates: relaxed SIMD over strict over
 * scalar, the shared-memory variant exactly when it runs more than one thread (a 1-core
 * machine runs one).
 */
export function expectedAutoBuild(report: GoldenReport): string {
  const f = report.runs.find((r) => r.label === "auto")?.features;
  if (!f) return "no auto run";
  const isa = f.host.relaxedSimd ? "relaxed" : f.host.simd ? "simd" : "scalar";
  const threads = f.host.threads ? f.host.hardwareConcurrency : 1;
  return isa !== "scalar" && threads > 1 ? `${isa}-shared` : isa;
}

/** Everything wrong with a host's report: failed cases, bits that differ where they must not, an unused pool. */
export function problems(report: GoldenReport, reference: GoldenReport): string[] {
  return [...failures(report), ...strictMismatches(report, reference), ...threadMismatches(report), ...poolProblems(report)];
}

/** One row of the supported-runtimes table. */
export interface RuntimeRow {
  host: string;
  runtime: string;
  version: string;
  /** Build chosen by "auto" and its threads. */
  build: string;
  threads: number;
  /** Why threads or a better build were not taken (features.notes). */
  notes: string[];
  pass: boolean;
  strictBitIdentical: boolean;
  /** Process start to first answer, where measured. */
  coldStartMs?: number;
  /** Process start to the first translation answered (workerd POST /translate). */
  firstTranslationMs?: number;
  /** Wall time of the translate case (the demo sentences) under "auto"; absent where clocks are frozen (workerd). */
  translateMs?: number;
  /** The network the host had: "none (netns)", "loopback" (served pages, workerd) or "test process". */
  network: string;
  cases: number;
  /** When the row was saved (ms epoch), so the table uses only this run's rows. */
  at: number;
}

/** Builds a row from a report. */
export function rowOf(
  host: string, report: GoldenReport, extra: Partial<RuntimeRow> & { strictBitIdentical: boolean; network: string },
): RuntimeRow {
  const auto = report.runs.find((r) => r.label === "auto");
  const translate = auto?.results.find((r) => r.name.startsWith("default translator"));
  return {
    host,
    runtime: report.runtime,
    version: report.version,
    build: auto?.features?.build ?? "none",
    threads: auto?.features?.threads ?? 0,
    notes: auto?.features?.notes ?? [],
    pass: report.pass,
    cases: report.runs.reduce((s, r) => s + r.results.length, 0),
    at: Date.now(),
    translateMs: report.runtime === "workerd" || translate?.ms === undefined ? undefined : Math.round(translate.ms),
    ...extra,
  };
}

/** Saves a host's row for compose_table.mjs. */
export function recordRow(row: RuntimeRow): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, `${row.host.replace(/[^a-z0-9-]+/gi, "_")}.json`), JSON.stringify(row, null, 2));
}
