// The thread pool behind Engine.runTasks: (threads - 1) workers running the engine's own
// module on the engine's shared memory, driven through a control block (control.ts).
// A job gives each participant one contiguous range of the tasks, the calling thread
// taking the first; the split is a pure function of the task count and the thread
// count, and tasks write disjoint outputs, so results do not depend on timing.
import { DisposedError, WorkerError } from "../errors.js";
import {
  ARG_SLOTS, ARGC, ERROR_LEN, FAILED, HI, KERNEL, LO, PENDING, SEQ, SHUTDOWN,
  type ControlViews, controlBytes, controlViews, workerBase, type WorkerInit, type WorkerReply,
} from "./control.js";

/**
 * Work (in flops, or scalar operations for non-GEMM kernels) below which an op should
 * run as one task on the calling thread. Measured on the reference machine (Node 20,
 * 2-core AMD EPYC VM, load average < 1; `npm run bench -- threads`, bench/results/threads.md):
 * a job of two empty tasks on 2 threads costs 47-71 us (four runs), against 0.4-0.7 us for
 * one task run inline. Splitting W flops over 2 threads at 40-50 GFLOP/s per thread (relaxed
 * GEMM) saves W / 80e9..100e9 s, which pays for ~50-60 us from ~5 MFLOP.
 */
export const MIN_PARALLEL_WORK = 5_000_000;

/** How long the calling thread blocks in Atomics.wait before yielding to its event loop. */
const BLOCK_MS = 50;
/** Atomic loads of PENDING before the calling thread parks (~10-30 us): workers finish soon after it. */
const SPIN_LOADS = 10_000;
/** 1 ms parks run_plan may wait at one barrier on the calling thread before it looks at its event loop. */
const PLAN_BUDGET = 20;

/** The wasm side of plans (exports of the engine's instance, see assembly/plan.ts). */
export interface PlanHooks {
  /** Index of run_plan in the kernel list given to the pool's calls. */
  kernel: number;
  run(plan: number, thread: number, threads: number, budget: number): number;
  begin(plan: number, fresh: number): void;
  stop(plan: number): void;
  abort(plan: number): void;
}
/** run_plan's results (assembly/plan.ts): done, aborted (1, yielded, means call again). */
const PLAN_DONE = 0;
const PLAN_ABORTED = 2;
/** How long a plan's release waits for its workers to leave before it stops them by force. */
const RELEASE_MS = 1000;
/** Time slice of Atomics.waitAsync, so a missed notification cannot stall a job. */
const ASYNC_SLICE_MS = 100;

type Kernel = (...args: number[]) => unknown;

/** A started worker, whichever API made it. */
interface WorkerHandle {
  /** Stops the thread; resolves once it can no longer touch the memory (Node) or at once (Web). */
  terminate(): Promise<void>;
  /** Lets the host exit while the worker idles (Node, Deno, Bun). */
  unref(): void;
}

type FailHandler = (reason: string) => void;

function describe(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  if (typeof e === "object" && e !== null && "message" in e) return String((e as { message: unknown }).message);
  return String(e);
}

interface HostGlobals {
  process?: { versions?: { node?: string } };
  Worker?: new (url: URL, opts: { type: "module" }) => WebWorker;
}
interface WebWorker {
  postMessage(m: unknown): void;
  terminate(): void;
  unref?: () => void;
  onmessage: ((e: { data: WorkerReply }) => void) | null;
  onerror: ((e: { message?: string; preventDefault?: () => void }) => void) | null;
}

/**
 * Node, Deno and Bun: node:worker_threads, whose workers can be unref'd and report exit.
 * (Deno's Web Workers keep the process alive with no unref, and one blocked in
 * Atomics.wait even survives terminate(); Bun's would do, but one path is simpler.)
 */
async function spawnNode(url: URL, init: WorkerInit, onFail: FailHandler): Promise<WorkerHandle> {
  const { Worker } = await import("node:worker_threads");
  // No inherited Node options: the script needs none (V8 flags such as relaxed SIMD are
  // process-wide anyway), and some break a worker: --input-type (from `node -e`) makes it
  // refuse a file, per-process V8 flags throw ERR_WORKER_INVALID_EXEC_ARGV.
  const w = new Worker(url, { workerData: init, execArgv: [] });
  const handle: WorkerHandle = { terminate: () => w.terminate().then(() => undefined), unref: () => w.unref() };
  return new Promise((resolve, reject) => {
    let started = false;
    const failed = (reason: string) => {
      if (started) onFail(reason);
      else reject(new WorkerError(`worker ${init.index + 1} did not start from ${url.href}: ${reason}`));
    };
    w.once("message", (r: WorkerReply) => {
      if (r.type === "ready") {
        started = true;
        resolve(handle);
      } else failed(r.message);
    });
    w.on("error", (e) => failed(`worker ${init.index + 1} threw: ${describe(e)}`));
    w.on("exit", (code) => failed(`worker ${init.index + 1} exited (code ${code})`));
  });
}

/** Browsers (and any host without node:worker_threads): module Web Workers. */
function spawnWeb(url: URL, init: WorkerInit, onFail: FailHandler): Promise<WorkerHandle> {
  const W = (globalThis as HostGlobals).Worker;
  if (typeof W !== "function") return Promise.reject(new WorkerError("no Worker constructor in this host"));
  const w = new W(url, { type: "module" });
  const handle: WorkerHandle = { terminate: async () => w.terminate(), unref: () => w.unref?.() };
  return new Promise((resolve, reject) => {
    let started = false;
    w.onmessage = (e) => {
      if (started) return;
      if (e.data?.type === "ready") {
        started = true;
        resolve(handle);
      } else {
        w.terminate();
        reject(new WorkerError(`worker ${init.index + 1}: ${e.data?.type === "error" ? e.data.message : "unexpected message"}`));
      }
    };
    w.onerror = (e) => {
      e.preventDefault?.();
      const reason = e.message || `could not load ${url.href} (a cross-origin isolated page needs COEP on the worker script too)`;
      if (started) onFail(`worker ${init.index + 1} threw: ${reason}`);
      else {
        w.terminate();
        reject(new WorkerError(`worker ${init.index + 1} did not start: ${reason}`));
      }
    };
    w.postMessage(init);
  });
}

let blockingAllowed: boolean | undefined;
/** Whether this thread may block in Atomics.wait (not on a browser main thread). */
export function canBlock(): boolean {
  if (blockingAllowed === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockingAllowed = true;
    } catch {
      blockingAllowed = false;
    }
  }
  return blockingAllowed;
}

type WaitAsync = (a: Int32Array, i: number, v: number, t?: number) => { async: boolean; value: Promise<unknown> | string };

/** Options of {@link ThreadPool.create}. */
export interface PoolOptions {
  module: WebAssembly.Module;
  /** The engine's memory; must be shared. */
  memory: WebAssembly.Memory;
  /** Workers to start: threads - 1, since the calling thread takes a share too. */
  workers: number;
  /** Export names of the module; kernels are passed to run() as indices into this list. */
  names: string[];
  /** The worker script (dist/worker.js). */
  workerUrl: URL;
}

/**
 * Workers on the engine's shared memory. One job at a time: concurrent run() calls queue.
 * A worker that throws or dies fails the pending run() with WorkerError; the workers are
 * then stopped and started afresh on the next run().
 */
export class ThreadPool {
  private handles: WorkerHandle[] = [];
  private ctl!: ControlViews;
  /** Bumped whenever the workers are replaced, so late events of old workers are ignored. */
  private generation = 0;
  private broken: string | null = null;
  private disposed = false;
  /** The running job's completion, which queued run() calls wait for. */
  private current: Promise<void> | null = null;
  /** Set while a job waits on the event loop: fails it at once. */
  private onFailure: ((e: Error) => void) | null = null;
  /**
   * The plan whose job the workers may still be in (waiting for its next step): a plan job
   * outlives its step, so the next step of the same plan needs no dispatch. Any other job
   * first makes them leave (settle()).
   */
  private serving: { plan: number; threads: number; hooks: PlanHooks } | null = null;
  /** A worker died while the workers served a plan: the next call reports it (WorkerError). */
  private lostInPlan = false;

  private constructor(private readonly opts: PoolOptions) {}

  /** Starts the workers; rejects with WorkerError if any cannot start. */
  static async create(opts: PoolOptions): Promise<ThreadPool> {
    const pool = new ThreadPool(opts);
    await pool.start();
    return pool;
  }

  /** Whether a job is running or queued (its tasks may still be writing). */
  get busy(): boolean {
    return this.current !== null;
  }

  /** Threads taking part in a job: the workers plus the calling thread. */
  get threads(): number {
    return this.opts.workers + 1;
  }

  private async start(): Promise<void> {
    const gen = ++this.generation;
    const { workers } = this.opts;
    const control = new SharedArrayBuffer(controlBytes(workers));
    this.ctl = controlViews(control, workers);
    const g = globalThis as HostGlobals;
    const spawn = typeof g.process?.versions?.node === "string" ? spawnNode : spawnWeb;
    const started = await Promise.allSettled(
      Array.from({ length: workers }, (_, index) =>
        spawn(this.opts.workerUrl, {
          simdformer: 1, module: this.opts.module, memory: this.opts.memory, control, workers, index, names: this.opts.names,
        }, (reason) => this.fail(gen, reason))),
    );
    const handles = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const refused = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (refused || gen !== this.generation) {
      await Promise.all(handles.map((h) => h.terminate()));
      if (refused) throw refused.reason;
      throw new DisposedError("the runtime was disposed while its workers were starting");
    }
    for (const h of handles) h.unref();
    this.handles = handles;
    this.broken = null;
    this.serving = null;
  }

  private fail(gen: number, reason: string): void {
    if (gen !== this.generation || this.disposed) return;
    this.broken ??= reason;
    if (this.serving) this.lostInPlan = true;
    this.onFailure?.(new WorkerError(reason));
  }

  /** Stops the current workers: SHUTDOWN for a clean exit, terminate() for busy ones. */
  private retire(): Promise<void> {
    this.generation++;
    if (this.serving) this.serving.hooks.stop(this.serving.plan);
    this.serving = null;
    const { i32 } = this.ctl;
    Atomics.store(i32, SHUTDOWN, 1);
    for (let w = 0; w < this.opts.workers; w++) {
      Atomics.add(i32, workerBase(w) + SEQ, 1);
      Atomics.notify(i32, workerBase(w) + SEQ);
    }
    const handles = this.handles;
    this.handles = [];
    return Promise.all(handles.map((h) => h.terminate())).then(() => undefined);
  }

  /**
   * Runs `fns[kernel]` once per task (all tasks have `fns[kernel].length` numbers).
   * Resolves when every task is done; rejects with WorkerError if a worker failed, or with
   * the calling thread's own error (e.g. a wasm RuntimeError) if one of its tasks threw.
   */
  async run(fns: readonly Kernel[], kernel: number, tasks: ArrayLike<ArrayLike<number>>): Promise<void> {
    return this.exclusive(async () => {
      await this.settle();
      const fn = fns[kernel];
      const argc = fn.length;
      const perJob = Math.floor(ARG_SLOTS / Math.max(1, argc));
      for (let lo = 0; lo < tasks.length; lo += perJob) {
        await this.job(fn, kernel, argc, tasks, lo, Math.min(tasks.length, lo + perJob));
      }
    });
  }

  /** Runs `body` once the previous job has ended, on a live pool (restarted if a worker died). */
  private async exclusive(body: () => Promise<void>): Promise<void> {
    while (this.current) await this.current;
    let release!: () => void;
    this.current = new Promise((r) => (release = r));
    try {
      if (this.disposed) throw new DisposedError("the runtime was disposed");
      if (this.broken !== null) {
        // Survivors of a broken pool (a sibling died) may still be in a plan: stop them first.
        await this.retire();
        // A plan's job lasts from step to step, so a worker lost in between fails the next
        // call, as a death inside a job does; the call after it gets a fresh pool.
        if (this.lostInPlan) {
          this.lostInPlan = false;
          throw new WorkerError(this.broken);
        }
        await this.start();
      }
      await body();
    } finally {
      this.current = null;
      release();
    }
  }

  /**
   * Runs one step of the plan at `plan` on `threads` threads (threads - 1 workers). The
   * workers' job is run_plan itself: after a step they wait a bounded time for the next one
   * of the same plan, so a step dispatches only when they have left. This thread runs thread
   * 0, which returns once every unit of the step is done (a worker that is late or never
   * comes holds up nothing: this thread takes its units), with a bounded wait per slice so it
   * looks at its event loop now and then: a dead worker aborts the plan and fails the step
   * with WorkerError instead of hanging.
   */
  async runPlan(hooks: PlanHooks, plan: number, threads: number): Promise<void> {
    return this.exclusive(async () => {
      const n = Math.min(threads, this.threads);
      if (this.serving && (this.serving.plan !== plan || this.serving.threads !== n)) await this.settle();
      const fresh = Atomics.load(this.ctl.i32, PENDING) === 0;
      hooks.begin(plan, fresh ? 1 : 0);
      if (fresh) {
        const tasks = Array.from({ length: n }, (_, t) => [plan, t, n, 0]);
        this.dispatch(hooks.kernel, 4, tasks, 0, n);
        this.serving = { plan, threads: n, hooks };
      }
      try {
        for (;;) {
          const r = hooks.run(plan, 0, n, PLAN_BUDGET);
          if (r === PLAN_DONE) return;
          if (r === PLAN_ABORTED) throw new WorkerError(this.failure() ?? "plan aborted by a worker that failed");
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (this.disposed) throw new DisposedError("the runtime was disposed during a plan");
          if (this.broken !== null) throw new WorkerError(this.broken);
        }
      } catch (e) {
        hooks.abort(plan);
        this.lostInPlan = false;
        if (e instanceof WorkerError) this.broken ??= e.message;
        // Every worker stopped before the caller reuses the memory a survivor may still write.
        await this.retire();
        throw e;
      }
    });
  }

  /** Makes workers still waiting in a plan leave it, and waits until they have. */
  private async settle(): Promise<void> {
    const s = this.serving;
    if (!s) return;
    s.hooks.stop(s.plan);
    this.serving = null;
    if (!this.waitBlocking()) {
      try {
        await this.waitAsync();
      } catch (e) {
        await this.retire();
        throw e;
      }
    }
  }

  /**
   * Called before the memory of the plan at `plan` is released: workers still waiting in it
   * leave first (synchronously, so they never read the memory's next owner). Workers that do
   * not leave within RELEASE_MS are stopped by force.
   */
  releasePlan(plan: number): void {
    const s = this.serving;
    if (!s || s.plan !== plan) return;
    s.hooks.stop(plan);
    this.serving = null;
    const end = performance.now() + RELEASE_MS;
    while (!this.waitBlocking()) {
      if (!canBlock() || performance.now() > end) {
        this.broken ??= "workers did not leave a released plan";
        void this.retire();
        return;
      }
    }
  }

  /** The text of the first worker failure of the current job, if one failed. */
  private failure(): string | null {
    const { i32, err } = this.ctl;
    if (Atomics.load(i32, FAILED) === 0) return null;
    return String.fromCharCode(...err.subarray(0, Atomics.load(i32, ERROR_LEN)));
  }

  /** Hands tasks [lo, hi) but the calling thread's share to the workers; returns that share's size. */
  private dispatch(kernel: number, argc: number, tasks: ArrayLike<ArrayLike<number>>, lo: number, hi: number): number {
    const { i32, args } = this.ctl;
    const n = hi - lo;
    const parts = Math.min(this.threads, n);
    const own = Math.floor(n / parts);
    for (let t = own; t < n; t++) {
      const task = tasks[lo + t];
      for (let j = 0; j < argc; j++) args[t * argc + j] = task[j];
    }
    Atomics.store(i32, KERNEL, kernel);
    Atomics.store(i32, ARGC, argc);
    Atomics.store(i32, FAILED, 0);
    Atomics.store(i32, PENDING, parts - 1);
    for (let p = 1; p < parts; p++) {
      const base = workerBase(p - 1);
      Atomics.store(i32, base + LO, Math.floor((p * n) / parts));
      Atomics.store(i32, base + HI, Math.floor(((p + 1) * n) / parts));
      Atomics.add(i32, base + SEQ, 1);
      Atomics.notify(i32, base + SEQ, 1);
    }
    return own;
  }

  private async job(fn: Kernel, kernel: number, argc: number, tasks: ArrayLike<ArrayLike<number>>, lo: number, hi: number): Promise<void> {
    const own = this.dispatch(kernel, argc, tasks, lo, hi);
    let ownError: unknown = null;
    try {
      for (let t = 0; t < own; t++) fn(...(tasks[lo + t] as number[]));
    } catch (e) {
      ownError = e ?? new Error("task threw");
    }
    if (!this.waitBlocking()) {
      try {
        await this.waitAsync();
      } catch (e) {
        // A dead worker never counts itself out: stop every worker before returning, so
        // none is still writing when the caller reuses the memory.
        await this.retire();
        throw e;
      }
    }
    const text = this.failure();
    if (text !== null) {
      this.broken = text;
      void this.retire();
      throw new WorkerError(text);
    }
    if (ownError !== null) throw ownError;
  }

  /** Blocks for up to BLOCK_MS where allowed; true when the workers are done. */
  private waitBlocking(): boolean {
    const { i32 } = this.ctl;
    for (let s = 0; s < SPIN_LOADS; s++) if (Atomics.load(i32, PENDING) === 0) return true;
    if (!canBlock()) return false;
    const end = performance.now() + BLOCK_MS;
    for (;;) {
      const v = Atomics.load(i32, PENDING);
      if (v === 0) return true;
      const left = end - performance.now();
      if (left <= 0) return false;
      Atomics.wait(i32, PENDING, v, left);
    }
  }

  /** Waits on the event loop, so worker exit/error events and dispose() can fail the job. */
  private async waitAsync(): Promise<void> {
    const { i32 } = this.ctl;
    // Pending waitAsync calls and unref'd workers do not keep Node/Deno alive: without
    // this timer the process could exit in the middle of a job.
    const keepAlive = setInterval(() => {}, 1 << 30);
    const failed = new Promise<never>((_, reject) => (this.onFailure = reject));
    failed.catch(() => {});
    const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    try {
      for (;;) {
        if (this.disposed) throw new DisposedError("the runtime was disposed during a job");
        if (this.broken !== null) throw new WorkerError(this.broken);
        const v = Atomics.load(i32, PENDING);
        if (v === 0) return;
        // Without waitAsync (older Firefox) poll on timers.
        const w = waitAsync ? waitAsync(i32, PENDING, v, ASYNC_SLICE_MS) : { async: true, value: new Promise((r) => setTimeout(r, 1)) };
        if (w.async) await Promise.race([w.value, failed]);
      }
    } finally {
      this.onFailure = null;
      clearInterval(keepAlive);
    }
  }

  /** Stops the workers; a pending run() rejects with DisposedError. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // retire() also makes workers waiting in a plan leave it (they exit rather than be killed).
    this.onFailure?.(new DisposedError("the runtime was disposed during a job"));
    void this.retire();
  }
}
