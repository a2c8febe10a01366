// Entry of dist/worker.js: one thread of the pool. It instantiates the engine's module on
// the engine's shared memory, then loops: wait for its job sequence number to change,
// run its task range, count itself out of PENDING. It never returns to its event loop
// while serving, so everything after start goes through the control block, not messages.
// Started with node:worker_threads (init in workerData) or as a Web Worker (init as the
// first message); it must stay self-contained (bundled alone by scripts/build.mjs).
import {
  ARGC, ERROR_CHARS, ERROR_LEN, FAILED, HI, KERNEL, LO, PENDING, SEQ, SHUTDOWN,
  controlViews, workerBase, type WorkerInit, type WorkerReply,
} from "./control.js";
import { wasmImports } from "./imports.js";

type Kernel = (...args: number[]) => unknown;

/**
 * How long a worker keeps polling for its next job before it sleeps in Atomics.wait: decode
 * steps follow each other within this, so the next one starts without a futex wake-up,
 * while an idle runtime sleeps after it (no CPU).
 */
const SPIN_MS = 2;

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** Instantiates, replies, then serves jobs until SHUTDOWN. */
async function serve(init: WorkerInit, reply: (r: WorkerReply) => void): Promise<void> {
  let fns: Kernel[];
  try {
    const instance = await WebAssembly.instantiate(init.module, wasmImports(init.memory));
    fns = init.names.map((n) => instance.exports[n] as Kernel);
  } catch (e) {
    reply({ type: "error", message: `could not instantiate the wasm module: ${describe(e)}` });
    return;
  }
  const { i32, err, args } = controlViews(init.control, init.workers);
  const base = workerBase(init.index);
  let seen = Atomics.load(i32, base + SEQ);
  reply({ type: "ready" });
  const a: number[] = [];
  const runPlan = init.names.indexOf("run_plan");
  const abortPlan = fns[init.names.indexOf("plan_abort")];
  for (;;) {
    const until = performance.now() + SPIN_MS;
    for (let s = 1; Atomics.load(i32, base + SEQ) === seen; s++) {
      if ((s & 1023) === 0 && performance.now() > until) {
        Atomics.wait(i32, base + SEQ, seen);
        break;
      }
    }
    const seq = Atomics.load(i32, base + SEQ);
    if (seq === seen) continue;
    seen = seq;
    if (Atomics.load(i32, SHUTDOWN) !== 0) return;
    const fn = fns[Atomics.load(i32, KERNEL)];
    const argc = Atomics.load(i32, ARGC);
    const hi = Atomics.load(i32, base + HI);
    a.length = argc;
    try {
      for (let t = Atomics.load(i32, base + LO); t < hi; t++) {
        for (let j = 0; j < argc; j++) a[j] = args[t * argc + j];
        fn(...a);
      }
    } catch (e) {
      // First failure wins the text slot; the caller turns it into a WorkerError.
      if (Atomics.compareExchange(i32, FAILED, 0, init.index + 1) === 0) {
        const text = `worker ${init.index + 1}: ${describe(e)}`.slice(0, ERROR_CHARS);
        for (let i = 0; i < text.length; i++) err[i] = text.charCodeAt(i);
        Atomics.store(i32, ERROR_LEN, text.length);
      }
      // A trap inside a plan would leave the other threads waiting for its unit: release them
      // (after the text, which the calling thread reads once it sees the abort).
      if (fn === fns[runPlan] && abortPlan) abortPlan(a[0]);
    }
    if (Atomics.sub(i32, PENDING, 1) === 1) Atomics.notify(i32, PENDING);
  }
}

interface WorkerGlobals {
  process?: { versions?: { node?: string } };
  postMessage?: (m: unknown) => void;
  onmessage?: ((e: { data: unknown }) => void) | null;
  close?: () => void;
}
const g = globalThis as WorkerGlobals;
const isInit = (d: unknown): d is WorkerInit => (d as WorkerInit | null)?.simdformer === 1;

if (typeof g.process?.versions?.node === "string") {
  // Node, Deno and Bun: the pool uses node:worker_threads there (unref-able workers).
  void import("node:worker_threads").then(({ workerData, parentPort }) => {
    if (!isInit(workerData) || !parentPort) return;
    g.onmessage = null;
    void serve(workerData, (r) => parentPort.postMessage(r));
  });
}
if (typeof g.postMessage === "function") {
  // Web Worker: the handler must be set before the first await, or the init message is lost.
  g.onmessage = (e) => {
    if (!isInit(e.data)) return;
    g.onmessage = null;
    void serve(e.data, (r) => g.postMessage!(r)).then(() => g.close?.());
  };
}
