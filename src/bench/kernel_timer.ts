// Times our kernels: the part of the kernel microbenchmark that ships with the package
// (`simdformer bench`). No peer libraries and no benchmark.js here; bench/kernels.bench.ts
// reuses prepareKernel() and times the same calls side by side with the peers.
import { ArgumentError } from "../errors.js";
import type { KernelExports } from "../kernels/exports.js";
import type { Dims, KernelCase, KernelEntry } from "../kernels/kernel_entry.js";
import { KERNELS } from "../kernels/registry.js";
import type { BuildName } from "../engine/builds.js";
import { detectFeatures } from "../engine/features.js";
import type { WasmSource } from "../engine/loader.js";
// From the package entry, not ../simdformer.js: bench.js then reaches what index.js and the CLI
// reach, and esbuild keeps the library in one chunk for all three (a narrower import splits a
// second chunk off `import "simdformer"`).
import { createRuntime, type Runtime } from "../index.js";
import { Rng } from "../util/rng.js";

/** A kernel call with its inputs already in wasm memory: only `call()` is left to time. */
export interface PreparedKernel {
  entry: KernelEntry;
  case: KernelCase;
  /** Calls the kernel on the staged inputs (every call entry.run made to `entry.name`). */
  call: () => void;
  /** The argument lists call() replays, as recorded from entry.run (byte offsets into the runtime's memory). */
  calls: number[][];
  /** What the staging run returned: the kernel's output on this case. */
  output: Float32Array;
  /** Floating-point operations of one call (entry.flops). */
  flops: number;
  /** Bytes of the inputs plus the output: what one call must at least stream through memory. */
  bytes: number;
  /** Frees the staged inputs (resets the runtime's scratch). */
  release(): void;
}

type KernelFn = (...args: number[]) => unknown;

/**
 * Stages `c` once and returns a call that replays the kernel on it. entry.run() is run once
 * with a recording copy of the exports: the calls it makes to `entry.name` (with the byte
 * offsets it staged) are what call() repeats, while its other work (staging, packing weights,
 * reading the output back) stays outside the timed loop. The scratch must not be reset
 * while the prepared kernel is in use.
 */
export function prepareKernel(runtime: Runtime, entry: KernelEntry, c: KernelCase): PreparedKernel {
  const real = runtime.kernels as unknown as Record<string, KernelFn>;
  const fn = real[entry.name];
  if (typeof fn !== "function") {
    throw new ArgumentError(`kernel ${entry.name}: expected an export of the ${runtime.features.build} build, found none`);
  }
  const calls: number[][] = [];
  // The exports object is frozen (no Proxy over it): a copy with the one kernel wrapped.
  const recording = {
    ...real,
    [entry.name]: (...args: number[]) => {
      calls.push(args);
      return fn(...args);
    },
  } as unknown as KernelExports;
  const output = entry.run(recording, runtime.engine, c);
  if (calls.length === 0) {
    throw new ArgumentError(`kernel ${entry.name}: expected its registry run() to call it, found no call`);
  }
  // One call (the usual case) is bound directly so the loop adds no spread/apply cost.
  const call: () => void =
    calls.length === 1
      ? (fn.bind(null, ...calls[0]) as () => void)
      : () => {
          for (const args of calls) fn(...args);
        };
  let bytes = output.length * 4;
  for (const a of Object.values(c.inputs)) bytes += a.length * 4;
  return {
    entry,
    case: c,
    call,
    calls,
    output,
    flops: entry.flops(c.dims),
    bytes,
    release: () => runtime.engine.scratch.reset(),
  };
}

/** How long to time one call. */
export interface TimerOptions {
  /** Calls before measuring, at least this long (wasm tier-up, caches). Default 60 ms. */
  warmupMs: number;
  /** Target length of one sample; fast calls are repeated to fill it. Default 10 ms. */
  sampleMs: number;
  /** Samples wanted. Default 15. */
  samples: number;
  /** Fewest samples, even when maxMs runs out (slow calls). Default 3. */
  minSamples: number;
  /** Stop taking samples after this long (once minSamples are in). Default 400 ms. */
  maxMs: number;
}

const DEFAULT_TIMER: TimerOptions = { warmupMs: 60, sampleMs: 10, samples: 15, minSamples: 3, maxMs: 400 };

/** Per-call time of a timed function, in microseconds. */
export interface TimingStats {
  medianUs: number;
  minUs: number;
  maxUs: number;
  samples: number;
  /** Calls per sample (1 for slow calls). */
  callsPerSample: number;
}

/**
 * Times `fn` with performance.now(): warm-up, then samples of an adaptive number of calls
 * (so that timer resolution is negligible); reports the median, robust to a noisy machine.
 */
export function timeCall(fn: () => void, options: Partial<TimerOptions> = {}): TimingStats {
  const o = { ...DEFAULT_TIMER, ...options };
  let calls = 0;
  const w0 = performance.now();
  let now = w0;
  do {
    fn();
    calls++;
    now = performance.now();
  } while (now - w0 < o.warmupMs || calls < 2);
  const perCallMs = (now - w0) / calls;
  const callsPerSample = Math.max(1, Math.round(o.sampleMs / Math.max(perCallMs, 1e-6)));
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < o.samples) {
    const s = performance.now();
    for (let i = 0; i < callsPerSample; i++) fn();
    const e = performance.now();
    times.push(((e - s) * 1000) / callsPerSample);
    if (times.length >= o.minSamples && e - t0 > o.maxMs) break;
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const medianUs = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  return { medianUs, minUs: times[0], maxUs: times[times.length - 1], samples: times.length, callsPerSample };
}

/** "m=128 k=768 n=768": a shape as printed in tables and matched by filters. */
export function formatDims(d: Dims): string {
  return Object.entries(d)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

/** One timed kernel x shape x build. */
export interface KernelBenchRow {
  kernel: string;
  /** formatDims() of the shape. */
  shape: string;
  dims: Dims;
  build: BuildName;
  stats: TimingStats;
  flops: number;
  bytes: number;
  /** flops / median time; 0 for kernels without a flop count. */
  gflops: number;
  /** bytes / median time. */
  gbps: number;
}

/** Options of {@link runKernelSuite}. */
export interface KernelSuiteOptions {
  /** Builds to time, each in its own single-threaded runtime. Default: "simd", plus "relaxed" where the host validates it. */
  builds?: BuildName[];
  /** Keeps kernel x shape pairs whose "name shape" (e.g. "f32_gemm m=1 k=768 n=768") contains the string, matches the RegExp, or passes the function. */
  filter?: string | RegExp | ((entry: KernelEntry, dims: Dims) => boolean);
  /** Called after each row is timed. */
  onProgress?: (done: number, total: number, row: KernelBenchRow) => void;
  /** Timer settings (see {@link TimerOptions}). */
  timing?: Partial<TimerOptions>;
  /** Seed of the generated inputs. Default 1. */
  seed?: number;
  /** Where the wasm builds come from (a folder URL ending in "/" serves every build); default the package's own. */
  wasm?: WasmSource;
}

function matches(filter: KernelSuiteOptions["filter"], entry: KernelEntry, dims: Dims): boolean {
  if (filter === undefined) return true;
  if (typeof filter === "function") return filter(entry, dims);
  const label = `${entry.name} ${formatDims(dims)}`;
  return typeof filter === "string" ? label.includes(filter) : filter.test(label);
}

/**
 * Times every registry kernel on its bench shapes, on each build (threads: 1), and returns
 * one row per kernel x shape x build. The runtimes are created here and disposed at the end.
 *
 * @example
 * const rows = await runKernelSuite({ filter: "gemm", onProgress: (i, n) => console.error(`${i}/${n}`) });
 * console.log(formatKernelRows(rows));
 */
export async function runKernelSuite(options: KernelSuiteOptions = {}): Promise<KernelBenchRow[]> {
  let builds = options.builds;
  if (builds === undefined) {
    const host = await detectFeatures();
    builds = host.relaxedSimd ? ["simd", "relaxed"] : ["simd"];
  }
  if (builds.length === 0) throw new ArgumentError("runKernelSuite: expected at least one build, found none");
  const work: Array<[KernelEntry, Dims]> = [];
  for (const entry of KERNELS) for (const d of entry.benchShapes) if (matches(options.filter, entry, d)) work.push([entry, d]);
  const runtimes: Runtime[] = [];
  try {
    for (const build of builds) runtimes.push(await createRuntime({ build, threads: 1, wasm: options.wasm }));
    const rows: KernelBenchRow[] = [];
    const total = work.length * runtimes.length;
    for (const [entry, dims] of work) {
      const c = entry.makeCase(dims, new Rng(options.seed ?? 1));
      for (const rt of runtimes) {
        const p = prepareKernel(rt, entry, c);
        try {
          const stats = timeCall(p.call, options.timing);
          const s = stats.medianUs * 1e-6;
          const row: KernelBenchRow = {
            kernel: entry.name,
            shape: formatDims(dims),
            dims,
            build: rt.features.build,
            stats,
            flops: p.flops,
            bytes: p.bytes,
            gflops: p.flops / s / 1e9,
            gbps: p.bytes / s / 1e9,
          };
          rows.push(row);
          options.onProgress?.(rows.length, total, row);
        } finally {
          p.release();
        }
      }
    }
    return rows;
  } finally {
    for (const rt of runtimes) rt.dispose();
  }
}

/** Formats a time in microseconds with a unit that keeps 3 significant digits. */
export function formatMicros(us: number): string {
  if (us < 1) return `${(us * 1000).toPrecision(3)} ns`;
  if (us < 1000) return `${us.toPrecision(3)} us`;
  return `${(us / 1000).toPrecision(3)} ms`;
}

/** A plain-text table of suite rows, one line per kernel x shape x build. */
export function formatKernelRows(rows: KernelBenchRow[]): string {
  const head = ["kernel", "shape", "build", "median", "GFLOP/s", "GB/s"];
  const body = rows.map((r) => [
    r.kernel,
    r.shape,
    r.build,
    formatMicros(r.stats.medianUs),
    r.flops > 0 ? r.gflops.toFixed(2) : "-",
    r.gbps.toFixed(2),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
