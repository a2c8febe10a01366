import { ArgumentError, DisposedError, UnsupportedFeatureError } from "../errors.js";
import { workerUrl as defaultWorkerUrl } from "./assets.js";
import { BUILDS, type BuildName, type SimdChoice, buildFromInfo, buildTraits, chooseBuild } from "./builds.js";
import { detectFeatures, type HostFeatures } from "./features.js";
import { wasmImports } from "./imports.js";
import { loadModule, type WasmSource } from "./loader.js";
import { f32At, Region, type RegionName, ScratchArena, WasmMemory } from "./memory.js";
import { canBlock, MIN_PARALLEL_WORK, ThreadPool } from "./pool.js";
import { PLAN_SET_NAME, type RecordedCall, type Recording } from "./plan.js";
import { kindOf, optionsObject } from "../util/options.js";
import type { KernelArgs, KernelExports, KernelName } from "./kernel_abi.js";

/** Options of the low-level engine; the public createRuntime() passes them through. */
export interface EngineOptions {
  /** Instruction set: "auto" (best the host validates), "relaxed", "strict" or "scalar". */
  simd?: SimdChoice;
  /** Force one build by name (overrides `simd`); unsupported builds throw UnsupportedFeatureError. */
  build?: BuildName;
  /** Worker threads: "auto" (hardware concurrency where shared memory and workers exist) or a count. */
  threads?: "auto" | number;
  /** Where the wasm comes from: a compiled module, bytes or a URL; default the package's own files. */
  wasm?: WasmSource;
  /**
   * URL of the worker script (the package's dist/worker.js by default), for bundlers or
   * CDNs that move it. Browsers need it served with the page's COEP policy.
   */
  workerUrl?: string | URL;
  /**
   * Work (flops, or scalar operations) below which an op runs as one task on the calling
   * thread; default MIN_PARALLEL_WORK, from the measured dispatch cost. 0 splits everything.
   */
  minParallelWork?: number;
  /**
   * Threads a decode plan may run on (capped by `threads`); any count gives the same bits. On
   * several threads the calling thread and the workers claim the plan's units, so a descheduled
   * thread holds up only the unit it is in. Default: every thread for a model of at least
   * PLAN_THREADS_MIN_BYTES (32 MiB) of weights, one below. Measured side by side on this project's
   * shared 2-core machine (`npm run bench -- plan`, bench/results/plan.md): with the second core
   * free, 2 threads decode llama-10m (40 MB f32), llama-50m (209 MB f32) and a ~100 M-parameter
   * q8_0 decoder 1.3x-1.65x faster than one (0.6x-0.8x while another job kept both cores busy);
   * models of a few MB (the translator, ~1M-parameter decoders) gain nothing or lose (0.6x-1.0x):
   * their steps of ~0.1 ms are too short to win back the barriers. Prefill and other op-by-op
   * work use every thread either way.
   */
  planThreads?: number;
  /** Maximum wasm memory in bytes (default 1 GiB; edge isolates want e.g. 96 MiB). */
  maxMemory?: number;
  /** Initial wasm memory in bytes (default 16 MiB, capped by maxMemory). */
  initialMemory?: number;
  /** Per-region byte limits within maxMemory (default: each may use all of it). */
  limits?: Partial<Record<RegionName, number>>;
}

/** What the runtime chose and why the better choices were not taken. */
export interface RuntimeFeatures {
  /** The build in use, e.g. "relaxed-shared". */
  build: BuildName;
  simd: boolean;
  relaxedSimd: boolean;
  /** Threads in use, the calling thread included (1 when single-threaded). */
  threads: number;
  sharedMemory: boolean;
  /**
   * The most bytes this runtime's one wasm memory may grow to (`maxMemory`, default 1 GiB; wasm32
   * caps it at 4 GiB). A model loads when its weights region (packed weights, reserved from the
   * file's header before any tensor is read) plus its KV cache and scratch fit here; see the
   * README's "How big a model each host takes". A shared (threaded) memory reserves this
   * maximum of address space when it is created.
   */
  maxMemoryBytes: number;
  /** What the host offers, independent of the choice. */
  host: HostFeatures;
  /** Human-readable reasons for every downgrade or forced choice. */
  notes: string[];
}

/**
 * Work (flops) from which an op inside a plan is split over the threads: a barrier costs
 * ~1-2 us against ~50 us for a pool dispatch (bench/results/threads.md), so decode GEMVs pay.
 */
export const PLAN_MIN_PARALLEL_WORK = 100_000;

/**
 * Weights (bytes as loaded) from which a decode plan runs on every thread by default. Below it
 * a step is too short for a second thread to win back its barriers on a shared 2-core machine
 * (`npm run bench -- plan`, bench/results/plan.md).
 */
export const PLAN_THREADS_MIN_BYTES = 32 * 2 ** 20;

/** Module bytes below this offset belong to AssemblyScript (memoryBase 1024 + static data). */
const RESERVED_BYTES = 64 * 1024;
const MiB = 1024 * 1024;

function resolveThreads(opt: EngineOptions["threads"], host: HostFeatures, notes: string[]): number {
  if (opt === undefined || opt === "auto") {
    if (host.threads) return host.hardwareConcurrency;
    // Say why: "auto" landing on one thread is the surprise users ask about (non-isolated pages, edge).
    notes.push(`single thread: ${host.reasons.threads}`);
    return 1;
  }
  if (!Number.isInteger(opt) || opt < 1 || opt > 256) {
    throw new ArgumentError(`threads: expected "auto" or an integer 1..256, found ${String(opt)}`);
  }
  if (opt > 1 && !host.threads) {
    notes.push(`threads: ${opt} asked, 1 used: ${host.reasons.threads}`);
    return 1;
  }
  return opt;
}

/** Names of the instance's function exports, in export order (the pool's kernel indices). */
function functionExports(instance: WebAssembly.Instance): string[] {
  return Object.keys(instance.exports).filter((k) => typeof instance.exports[k] === "function");
}

const ENGINE_OPTION_KEYS = ["simd", "build", "threads", "wasm", "workerUrl", "maxMemory", "initialMemory", "limits", "minParallelWork", "planThreads"] as const;
const SIMD_CHOICES: readonly SimdChoice[] = ["auto", "relaxed", "strict", "scalar"];
const REGION_NAMES: readonly RegionName[] = ["weights", "kv", "scratch"];

/** Validates createRuntime() options up front, so a typo is an ArgumentError, not a silent default. */
function checkEngineOptions(value: EngineOptions | undefined): EngineOptions {
  const where = "createRuntime";
  const o = optionsObject(where, value, ENGINE_OPTION_KEYS);
  const bytes = (key: string, v: unknown) => {
    if (v !== undefined && (typeof v !== "number" || !(v >= 0) || !Number.isFinite(v))) {
      throw new ArgumentError(`${where}: ${key}: expected a number of bytes >= 0, found ${typeof v === "number" ? v : JSON.stringify(v)}`);
    }
  };
  if (o.simd !== undefined && !SIMD_CHOICES.includes(o.simd)) {
    throw new ArgumentError(`${where}: simd: expected ${SIMD_CHOICES.map((c) => `"${c}"`).join(" | ")}, found ${JSON.stringify(o.simd)}`);
  }
  if (o.build !== undefined && !(BUILDS as readonly string[]).includes(o.build)) {
    throw new ArgumentError(`${where}: build: expected ${BUILDS.map((b) => `"${b}"`).join(" | ")}, found ${JSON.stringify(o.build)}`);
  }
  // The module's reserve (static data, stack) takes the first page: less than two pages cannot hold a block.
  if (o.maxMemory !== undefined && (typeof o.maxMemory !== "number" || !Number.isInteger(o.maxMemory) || o.maxMemory < 2 * 65536 || o.maxMemory > 65536 * 65536)) {
    throw new ArgumentError(`maxMemory: expected an integer number of bytes in ${2 * 65536}..${65536 * 65536} (4 GiB), found ${String(o.maxMemory)}`);
  }
  bytes("initialMemory", o.initialMemory);
  if (o.limits !== undefined) {
    const limits = optionsObject(`${where}: limits`, o.limits);
    const unknown = Object.keys(limits).find((k) => !(REGION_NAMES as readonly string[]).includes(k));
    if (unknown !== undefined) throw new ArgumentError(`${where}: limits: expected keys among ${REGION_NAMES.map((r) => `"${r}"`).join(", ")}, found "${unknown}"`);
    for (const r of REGION_NAMES) bytes(`limits.${r}`, limits[r]);
  }
  if (o.workerUrl !== undefined && typeof o.workerUrl !== "string" && !(o.workerUrl instanceof URL)) {
    throw new ArgumentError(`${where}: workerUrl: expected a string or URL, found ${kindOf(o.workerUrl)}`);
  }
  if (o.wasm !== undefined) optionsObject(`${where}: wasm`, o.wasm);
  return o;
}

/** Stops the workers of an engine collected without dispose() (a page that forgot it). */
const poolsOfLostEngines = new FinalizationRegistry<ThreadPool>((pool) => pool.dispose());

/**
 * One instantiated build over one memory, with the weights / kv / scratch regions.
 * Everything above (kernels, ops, models) talks to wasm through an Engine.
 */
export class Engine {
  private disposed = false;
  /** Export names; runTasks passes kernels to the pool as indices into this list. */
  private readonly names: string[];
  private readonly fns: Array<(...args: number[]) => unknown>;
  private readonly kernelIndex = new Map<string, number>();
  /** Set while record() runs: runTasks keeps its calls instead of running them. */
  private recorder: { calls: RecordedCall[]; threads: number } | null = null;
  /** The arena ops allocate from: the engine's own, or a plan's while it records. */
  private arena: ScratchArena;

  private constructor(
    readonly module: WebAssembly.Module,
    readonly instance: WebAssembly.Instance,
    readonly mem: WasmMemory,
    readonly features: RuntimeFeatures,
    readonly regions: Record<RegionName, Region>,
    scratch: ScratchArena,
    /** The workers when threads > 1. */
    private readonly pool: ThreadPool | null,
    /** See EngineOptions.minParallelWork. */
    readonly minParallelWork: number,
    /** See EngineOptions.planThreads (undefined: the size rule). */
    private readonly planThreadsOption: number | undefined,
  ) {
    if (pool) poolsOfLostEngines.register(this, pool, this);
    this.arena = scratch;
    this.names = functionExports(instance);
    this.fns = this.names.map((k) => instance.exports[k] as (...args: number[]) => unknown);
    this.names.forEach((k, i) => this.kernelIndex.set(k, i));
  }

  static async create(options?: EngineOptions): Promise<Engine> {
    const opts = checkEngineOptions(options);
    const host = await detectFeatures();
    const notes: string[] = [];
    let threads = resolveThreads(opts.threads, host, notes);
    const minParallelWork = opts.minParallelWork ?? MIN_PARALLEL_WORK;
    if (!(minParallelWork >= 0)) throw new ArgumentError(`minParallelWork: expected a number >= 0, found ${minParallelWork}`);
    const planThreads = opts.planThreads;
    if (planThreads !== undefined && !(Number.isInteger(planThreads) && planThreads >= 1)) throw new ArgumentError(`planThreads: expected an integer >= 1, found ${planThreads}`);
    let build: BuildName;
    if (opts.build !== undefined) {
      const t = buildTraits(opts.build);
      if (t.relaxedSimd && !host.relaxedSimd) throw new UnsupportedFeatureError(`build "${opts.build}" forced, but ${host.reasons.relaxedSimd}`);
      if (t.simd && !host.simd) throw new UnsupportedFeatureError(`build "${opts.build}" forced, but ${host.reasons.simd}`);
      if (t.shared && !host.threads) throw new UnsupportedFeatureError(`build "${opts.build}" forced, but ${host.reasons.threads}`);
      build = opts.build;
      notes.push(`build "${build}" forced by option`);
    } else {
      const choice = chooseBuild(host, opts.simd ?? "auto", threads > 1);
      build = choice.build;
      notes.push(...choice.notes);
    }
    if (!buildTraits(build).shared && threads > 1) {
      // chooseBuild already noted why it took an unshared build; a forced one says it here.
      if (opts.build !== undefined) notes.push(`single thread: build "${build}" has unshared memory`);
      threads = 1;
    }

    const maxBytes = opts.maxMemory ?? 1024 * MiB;
    const module = await loadModule(build, opts.wasm ?? {});
    const given = opts.wasm?.module !== undefined || opts.wasm?.bytes !== undefined || (opts.wasm?.url !== undefined && !String(opts.wasm.url).endsWith("/"));
    let shared = buildTraits(build).shared;
    const makeMemory = () =>
      new WasmMemory({ initialBytes: Math.min(maxBytes, opts.initialMemory ?? 16 * MiB), maxBytes, shared, reservedBytes: RESERVED_BYTES });
    let mem = makeMemory();
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(module, wasmImports(mem.memory));
    } catch (e) {
      // A module handed in by the caller may be the other memory kind: retry once with it.
      if (!given || !(e instanceof WebAssembly.LinkError)) throw e;
      shared = !shared;
      if (shared && !host.threads) throw new UnsupportedFeatureError(`the wasm given needs shared memory, but ${host.reasons.threads}`);
      mem = makeMemory();
      instance = await WebAssembly.instantiate(module, wasmImports(mem.memory));
    }
    const info = (instance.exports as unknown as KernelExports).build_info();
    const actual = buildFromInfo(info);
    if (given) {
      if (opts.build !== undefined && actual !== opts.build) {
        throw new ArgumentError(`wasm: build "${opts.build}" asked, but the module given is "${actual}"`);
      }
      const t = buildTraits(actual);
      if (t.relaxedSimd && !host.relaxedSimd) throw new UnsupportedFeatureError(`wasm: the module given is "${actual}", but ${host.reasons.relaxedSimd}`);
      build = actual;
    }
    if (!buildTraits(build).shared && threads > 1) {
      notes.push(`single thread: the wasm given is "${build}", with unshared memory`);
      threads = 1;
    }
    const traits = buildTraits(build);
    const limit = (r: RegionName) => Math.min(opts.limits?.[r] ?? maxBytes, maxBytes);
    const regions = {
      weights: new Region("weights", mem, limit("weights")),
      kv: new Region("kv", mem, limit("kv")),
      scratch: new Region("scratch", mem, limit("scratch")),
    };
    const features: RuntimeFeatures = {
      build,
      simd: traits.simd,
      relaxedSimd: traits.relaxedSimd,
      threads,
      sharedMemory: traits.shared,
      maxMemoryBytes: maxBytes,
      host,
      notes,
    };
    let pool: ThreadPool | null = null;
    if (threads > 1) {
      const names = functionExports(instance);
      const url = opts.workerUrl === undefined ? defaultWorkerUrl : new URL(opts.workerUrl, defaultWorkerUrl);
      try {
        if (!url) throw new ArgumentError("workerUrl: expected a URL of dist/worker.js in a host that gives modules no URL, found none");
        pool = await ThreadPool.create({ module, memory: mem.memory, workers: threads - 1, names, workerUrl: url });
      } catch (e) {
        // An explicit thread count is a promise to the caller; "auto" degrades with a note.
        if (typeof opts.threads === "number") throw e;
        notes.push(`single thread: workers did not start: ${(e as Error).message}`);
        features.threads = 1;
      }
    }
    return new Engine(module, instance, mem, features, regions, new ScratchArena(regions.scratch), pool, minParallelWork, planThreads);
  }

  /**
   * Runs one wasm export over independent tasks (one argument list each, typed by the kernel
   * ABI: a wrong name or argument count is a compile error), e.g. row or head ranges of one op.
   * Tasks must write disjoint outputs; splits never cut a reduction, so results are identical
   * for any thread count. Single-threaded engines (and single tasks) run in order on this
   * thread; otherwise the calling thread takes the first contiguous share of the tasks and
   * each worker the next, and calls queue in call order. Rejects with ArgumentError for an
   * unknown export or a wrong argument count (callers without the types), WorkerError if a
   * worker trapped or died (the workers are then restarted on the next call), or the wasm
   * error of a task run on this thread. `work` (flops of all tasks together), when given,
   * keeps a job too small to pay for a dispatch on this thread (see parallelWorthIt).
   */
  async runTasks<K extends KernelName>(kernel: K, tasks: readonly NoInfer<KernelArgs<K>>[], work = Infinity): Promise<void> {
    this.assertLive();
    const index = this.kernelIndex.get(kernel);
    if (index === undefined) throw new ArgumentError(`runTasks: expected the name of a wasm export, found "${kernel}"`);
    const fn = this.fns[index];
    for (let i = 0; i < tasks.length; i++) {
      if (tasks[i].length !== fn.length) {
        throw new ArgumentError(`runTasks: ${kernel} takes ${fn.length} arguments, task ${i} has ${tasks[i].length}`);
      }
    }
    if (this.recorder) {
      this.recorder.calls.push({ kernel, tasks: tasks.map((t) => t.slice()) });
      return;
    }
    // One task, little work, or no workers: run here (no dispatch cost), unless a job is still running.
    if (this.pool === null || ((tasks.length <= 1 || work < this.minParallelWork) && !this.pool.busy)) {
      for (const t of tasks) fn(...t);
      return;
    }
    await this.pool.run(this.fns, index, tasks);
  }

  /** Threads a job can use, the calling thread included. */
  get threads(): number {
    return this.features.threads;
  }

  /** Threads ops split their work for: the engine's, or those of the plan being recorded. */
  get splitThreads(): number {
    return this.recorder?.threads ?? this.features.threads;
  }

  /**
   * Threads the decode plan of a model holding `weightBytes` of weights runs on: the planThreads
   * option, else every thread from PLAN_THREADS_MIN_BYTES of weights (see EngineOptions.planThreads);
   * one where this thread may not block (a browser main thread).
   */
  planThreadsFor(weightBytes: number): number {
    if (this.pool === null || !canBlock()) return 1;
    const wanted = this.planThreadsOption ?? (weightBytes >= PLAN_THREADS_MIN_BYTES ? this.features.threads : 1);
    return Math.min(wanted, this.features.threads);
  }

  /** The scratch arena of the running pass. */
  get scratch(): ScratchArena {
    return this.arena;
  }

  /** Writes int32 values at byte offset `ptr`; a recording keeps them as the plan's stores. */
  writeI32(ptr: number, values: ArrayLike<number>): void {
    this.mem.i32.set(values, ptr >>> 2);
    this.recorder?.calls.push({ kernel: PLAN_SET_NAME, tasks: Array.from(values, (v, i) => [f32At(ptr, i), v]) });
  }

  /**
   * Runs `step` (op-by-op code) without running a kernel: its runTasks calls and writeI32
   * stores are kept, ops split work as for `threads` threads inside a plan, and scratch comes
   * from `arena` (reset first, so every recording of one step gets the same buffers).
   */
  async record<T>(arena: ScratchArena, threads: number, step: () => Promise<T>): Promise<Recording<T>> {
    this.assertLive();
    const saved = this.arena;
    const rec = { calls: [] as RecordedCall[], threads };
    this.recorder = rec;
    this.arena = arena;
    arena.reset();
    try {
      return { calls: rec.calls, result: await step() };
    } finally {
      this.recorder = null;
      this.arena = saved;
    }
  }

  /**
   * Runs the plan at byte offset `plan` (see engine/plan.ts) on `threads` threads: this one
   * and threads - 1 workers. Rejects with WorkerError if a worker died or trapped.
   */
  async runPlan(plan: number, threads: number): Promise<void> {
    this.assertLive();
    const k = this.exports;
    if (threads === 1 || this.pool === null) {
      k.run_plan(plan, 0, 1, 0);
      return;
    }
    await this.pool.runPlan({
      kernel: this.kernelIndex.get("run_plan")!,
      run: k.run_plan,
      begin: k.plan_begin,
      stop: k.plan_stop,
      abort: k.plan_abort,
    }, plan, threads);
  }

  /** Called before a plan's memory is released: no worker may still be waiting in it. */
  releasePlan(plan: number): void {
    this.pool?.releasePlan(plan);
  }

  /**
   * Whether splitting `work` (flops, or scalar operations for non-GEMM kernels) over
   * the threads saves more than dispatching costs; see {@link MIN_PARALLEL_WORK}.
   * Ops that get false run the whole kernel as one task on the calling thread.
   */
  parallelWorthIt(work: number): boolean {
    if (this.recorder) return this.recorder.threads > 1 && work >= Math.min(this.minParallelWork, PLAN_MIN_PARALLEL_WORK);
    return this.features.threads > 1 && work >= this.minParallelWork;
  }

  /** The instance's exports, with the kernel ABI's types (pointers are byte offsets into `mem`). */
  get exports(): KernelExports {
    this.assertLive();
    return this.instance.exports as unknown as KernelExports;
  }

  assertLive(): void {
    if (this.disposed) throw new DisposedError("the runtime was disposed");
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Stops the workers (a pending runTasks rejects with DisposedError). Idempotent. */
  dispose(): void {
    this.disposed = true;
    poolsOfLostEngines.unregister(this);
    this.pool?.dispose();
  }
}
