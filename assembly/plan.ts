// The plan executor: walks a flat list of kernel calls that src/runtime/plan.ts wrote into
// memory and runs them with no call back into JS. Every thread of a step runs the same plan;
// each op's tasks (row, panel or head ranges, never a cut reduction) are shared out by a pure
// function of the task and thread counts, so the bits do not depend on the thread count.
// Between dependent ops the threads meet at a barrier: a bounded spin on atomic loads, then
// memory.atomic.wait32. Builds without threads run plans on one thread and have no barrier.
//
// Plan layout (i32 words at `plan`, 16-byte aligned):
//   header   ops, step-header pointer, control-block pointer, 0
//   per op   kernel id, tasks, argc, patches, flags;
//            patches x (task, arg index, step slot, multiplier): arg += step[slot] * multiplier;
//            tasks x argc arguments (f32 arguments as their bits)
// Kernel id PLAN_SET is the plan's own store: each task (pointer, value) writes one i32 (the
// token and position ids the embedding kernels read, from the step header by patches).
// The step header holds what changes from step to step (positions, lengths, token ids),
// read through patches only: a plan is compiled once and reused while the shapes stay.
//
// Control block (bytes at `ctl`, each shared word on its own 64-byte line):
//   0 arrived   threads that reached the current barrier
//   64 gen      barrier generation, bumped by the last thread to arrive
//   128 sleepers threads parked in wait32 (the last arriver notifies only when some are)
//   192 abort   set by plan_abort: every thread leaves at its next barrier
//   256 + 64 t  thread t's resume state (op index, op offset, waiting, generation)
//   then        thread t's argument buffer, PLAN_MAX_ARGS words each

/** Op flag: the threads meet at a barrier after this op (the next op reads its output). */
export const OP_BARRIER: i32 = 1;
/** Kernel id of the plan's own i32 store (arguments: pointer, value). */
export const PLAN_SET: i32 = 1000;
/** Most arguments of one kernel call. */
export const PLAN_MAX_ARGS: i32 = 32;

const PLAN_HEADER_BYTES: usize = 16;
const OP_WORDS: usize = 5;

const C_ARRIVED: usize = 0;
const C_GEN: usize = 64;
const C_SLEEPERS: usize = 128;
const C_ABORT: usize = 192;
const C_THREADS: usize = 256;

const S_INDEX: usize = 0;
const S_OFFSET: usize = 4;
const S_WAITING: usize = 8;
const S_GEN: usize = 12;

/** Result of run_plan: the plan ran to its end. */
export const PLAN_DONE: i32 = 0;
/** Result of run_plan: waited out its budget at a barrier; call again to go on from there. */
export const PLAN_YIELDED: i32 = 1;
/** Result of run_plan: another thread called plan_abort. */
export const PLAN_ABORTED: i32 = 2;

/**
 * Spins of a barrier wait before parking in wait32. A spin is one or two atomic loads
 * (~1-3 ns); 1 << 15 is ~50-100 us, longer than most decode ops, so a step's barriers
 * rarely pay for a futex wake-up, yet short enough not to starve a loaded core for long.
 */
const SPIN: i32 = 1 << 15;
/** Timeout of one wait32 park, in ns: a budget counts these. */
const PARK_NS: i64 = 1_000_000;

/** Calls kernel `kernel` with the arguments at `args` (one i32 word each). */
export type Dispatch = (kernel: i32, args: usize) => void;

/** Bytes of the control block for `threads` threads. */
export function planControlBytes(threads: i32): i32 {
  return <i32>C_THREADS + threads * (64 + PLAN_MAX_ARGS * 4);
}

/** Waits for the generation to move on from `gen`: PLAN_DONE once it has, or why not. */
function wait(ctl: usize, gen: i32, budget: i32): i32 {
  if (ASC_FEATURE_THREADS) {
    for (let s = 0; s < SPIN; s++) {
      if (atomic.load<i32>(ctl + C_GEN) != gen) return PLAN_DONE;
      if (atomic.load<i32>(ctl + C_ABORT) != 0) return PLAN_ABORTED;
    }
    for (let parks = 0; ; parks++) {
      if (atomic.load<i32>(ctl + C_GEN) != gen) return PLAN_DONE;
      if (atomic.load<i32>(ctl + C_ABORT) != 0) return PLAN_ABORTED;
      if (budget > 0 && parks >= budget) return PLAN_YIELDED;
      // Registered before the wait32 re-checks gen: the last arriver bumps gen, then reads
      // sleepers, so either it sees this thread and notifies or this wait32 sees the new gen.
      atomic.add<i32>(ctl + C_SLEEPERS, 1);
      memory.atomic.wait32(ctl + C_GEN, gen, PARK_NS);
      atomic.sub<i32>(ctl + C_SLEEPERS, 1);
    }
  }
  return PLAN_DONE;
}

/** Arrives at the barrier; the last of `threads` releases the others. Returns as wait() does. */
function barrier(ctl: usize, threads: i32, budget: i32, state: usize): i32 {
  if (ASC_FEATURE_THREADS) {
    const gen = atomic.load<i32>(ctl + C_GEN);
    if (atomic.add<i32>(ctl + C_ARRIVED, 1) == threads - 1) {
      atomic.store<i32>(ctl + C_ARRIVED, 0);
      atomic.store<i32>(ctl + C_GEN, gen + 1);
      if (atomic.load<i32>(ctl + C_SLEEPERS) > 0) atomic.notify(ctl + C_GEN, -1);
      return PLAN_DONE;
    }
    store<i32>(state, gen, S_GEN);
    return wait(ctl, gen, budget);
  }
  return PLAN_DONE;
}

/**
 * Runs the plan as thread `thread` of `threads` (all of them call this on the same plan).
 * `budget`: parks of PARK_NS one barrier may wait before returning PLAN_YIELDED (0: no limit);
 * the caller then calls again with the same arguments to resume where it stopped. The
 * calling JS thread uses it to look at its event loop (a dead worker) now and then.
 */
export function runPlan(plan: usize, thread: i32, threads: i32, budget: i32, call: Dispatch): i32 {
  const ops = load<i32>(plan);
  const step = <usize>load<i32>(plan, 4);
  const ctl = <usize>load<i32>(plan, 8);
  const state = ctl + C_THREADS + (<usize>thread << 6);
  const args = ctl + C_THREADS + (<usize>threads << 6) + <usize>thread * <usize>(PLAN_MAX_ARGS * 4);
  let i = load<i32>(state, S_INDEX);
  let op = i == 0 ? plan + PLAN_HEADER_BYTES : <usize>load<i32>(state, S_OFFSET);
  if (load<i32>(state, S_WAITING) != 0) {
    const r = wait(ctl, load<i32>(state, S_GEN), budget);
    if (r != PLAN_DONE) return r;
    store<i32>(state, 0, S_WAITING);
  }
  for (; i < ops; i++) {
    const kernel = load<i32>(op);
    const tasks = load<i32>(op, 4);
    const argc = <usize>load<i32>(op, 8);
    const patches = <usize>load<i32>(op, 12);
    const flags = load<i32>(op, 16);
    const patch0 = op + OP_WORDS * 4;
    const task0 = patch0 + patches * 16;
    const parts = min(tasks, threads);
    if (thread < parts) {
      const lo = <usize>(tasks * thread / parts);
      const hi = <usize>(tasks * (thread + 1) / parts);
      for (let t = lo; t < hi; t++) {
        memory.copy(args, task0 + t * argc * 4, argc * 4);
        for (let p: usize = 0; p < patches; p++) {
          const at = patch0 + (p << 4);
          if (<usize>load<i32>(at) != t) continue;
          const a = args + (<usize>load<i32>(at, 4) << 2);
          store<i32>(a, load<i32>(a) + load<i32>(step + (<usize>load<i32>(at, 8) << 2)) * load<i32>(at, 12));
        }
        if (kernel == PLAN_SET) store<i32>(<usize>load<i32>(args), load<i32>(args, 4));
        else call(kernel, args);
      }
    }
    op = task0 + <usize>tasks * argc * 4;
    if ((flags & OP_BARRIER) != 0 && threads > 1) {
      const r = barrier(ctl, threads, budget, state);
      if (r != PLAN_DONE) {
        // Resume after this op, still waiting at its barrier (an abort is final anyway).
        store<i32>(state, i + 1, S_INDEX);
        store<i32>(state, <i32>op, S_OFFSET);
        store<i32>(state, 1, S_WAITING);
        return r;
      }
    }
  }
  store<i32>(state, 0, S_INDEX);
  return PLAN_DONE;
}

/** Makes every thread of the plan's step leave at its next barrier (a thread of it failed). */
export function plan_abort(plan: usize): void {
  if (ASC_FEATURE_THREADS) {
    const ctl = <usize>load<i32>(plan, 8);
    atomic.store<i32>(ctl + C_ABORT, 1);
    atomic.notify(ctl + C_GEN, -1);
  }
}

/** Clears the control block for `threads` threads before a step (no thread is in the plan). */
export function plan_reset(plan: usize, threads: i32): void {
  memory.fill(<usize>load<i32>(plan, 8), 0, <usize>planControlBytes(threads));
}

/** Bytes of the control block a plan for `threads` threads needs. */
export function plan_control_bytes(threads: i32): i32 {
  return planControlBytes(threads);
}
