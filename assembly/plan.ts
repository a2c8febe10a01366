// The plan executor: walks a flat list of kernel calls that src/runtime/plan.ts wrote into
// memory and runs them with no call back into JS. Each op's tasks (row, panel or head ranges,
// never a cut reduction) write disjoint outputs, so the bits do not depend on which thread
// runs which task, nor on the thread count.
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
// On several threads the ops form phases, each ending at an op flagged OP_BARRIER: a phase is
// one split op (a unit per task) or a run of one-task ops (one unit). Units are numbered
// through the step and claimed from a shared ticket; a unit starts once every unit of the
// earlier phases is done (a bounded spin on atomic loads, then memory.atomic.wait32); workers
// take units of split phases only, runs of one-task ops stay on the calling thread. Claiming
// instead of a fixed share means a thread the OS has descheduled (a shared, loaded machine)
// holds up nobody: the running threads take its units. The calling thread opens each step
// (plan_begin: a new epoch), workers that arrive late or not at all change nothing.
// Builds without threads run every plan on one thread, in order.
//
// Control block (bytes at `ctl`, each shared word on its own 64-byte line):
//   0 next      i64: epoch << 32 | next unit to claim
//   64 done     units finished in this epoch
//   128 sleepers threads parked in wait32 on done (a finisher notifies only when some are)
//   192 abort   set by plan_abort: every thread leaves at its next wait
//   256 stop    set by plan_stop: workers leave when out of units instead of waiting for the next epoch
//   260 units   units of a step (set by plan_reset)
//   320 + 64 t  thread t's state (the phase it is in; the unit it waits for, on resume)
//   then        thread t's argument buffer, PLAN_MAX_ARGS words each

/** Op flag: a phase ends after this op (the next op may read what this phase wrote). */
export const OP_BARRIER: i32 = 1;
/** Kernel id of the plan's own i32 store (arguments: pointer, value). */
export const PLAN_SET: i32 = 1000;
/** Most arguments of one kernel call. */
export const PLAN_MAX_ARGS: i32 = 32;

const PLAN_HEADER_BYTES: usize = 16;
const OP_WORDS: usize = 5;

const C_NEXT: usize = 0;
const C_DONE: usize = 64;
const C_SLEEPERS: usize = 128;
const C_ABORT: usize = 192;
const C_STOP: usize = 256;
const C_UNITS: usize = 260;
const C_THREADS: usize = 320;

// Thread state: the phase the thread is in (first op, its index, ops in it, first unit, units).
const S_OP: usize = 0;
const S_INDEX: usize = 4;
const S_COUNT: usize = 8;
const S_FIRST: usize = 12;
const S_UNITS: usize = 16;
/** The unit claimed and not yet run when the thread yielded; NO_UNIT when none, FINAL_WAIT at the end. */
const S_PENDING: usize = 20;
const NO_UNIT: i32 = -1;
const FINAL_WAIT: i32 = -2;

/** Result of run_plan: the plan ran to its end. */
export const PLAN_DONE: i32 = 0;
/** Result of run_plan: waited out its budget; call again to go on from there. */
export const PLAN_YIELDED: i32 = 1;
/** Result of run_plan: another thread called plan_abort. */
export const PLAN_ABORTED: i32 = 2;

/**
 * Spins of a wait before parking in wait32. A spin is two atomic loads (~2-5 ns), so
 * 1 << 13 is ~20-40 us: longer than a decode unit takes (the usual wait), short enough that a
 * thread waiting on a descheduled one soon gives its core back.
 */
const SPIN: i32 = 1 << 13;
/**
 * Spins a worker waits for the next epoch after running out of units (~0.2-0.5 ms): decode
 * steps follow each other within this, so the next one starts without a dispatch; then the
 * worker leaves run_plan (and, idle, sleeps in its job loop).
 */
const IDLE_SPIN: i32 = 1 << 17;
/** Timeout of one wait32 park, in ns: a budget counts these. */
const PARK_NS: i64 = 1_000_000;

/** Calls kernel `kernel` with the arguments at `args` (one i32 word each). */
export type Dispatch = (kernel: i32, args: usize) => void;

/** Bytes of the control block for `threads` threads. */
export function planControlBytes(threads: i32): i32 {
  return <i32>C_THREADS + threads * (64 + PLAN_MAX_ARGS * 4);
}

// @ts-ignore: decorator
@inline function opBytes(op: usize): usize {
  return OP_WORDS * 4 + <usize>load<i32>(op, 12) * 16 + <usize>load<i32>(op, 4) * <usize>load<i32>(op, 8) * 4;
}

/** Runs task `t` of the op at `op`: its arguments, patched from the step header, then the kernel. */
function runTask(op: usize, t: usize, step: usize, args: usize, call: Dispatch): void {
  const kernel = load<i32>(op);
  const argc = <usize>load<i32>(op, 8);
  const patches = <usize>load<i32>(op, 12);
  const patch0 = op + OP_WORDS * 4;
  memory.copy(args, patch0 + patches * 16 + t * argc * 4, argc * 4);
  for (let p: usize = 0; p < patches; p++) {
    const at = patch0 + (p << 4);
    if (<usize>load<i32>(at) != t) continue;
    const a = args + (<usize>load<i32>(at, 4) << 2);
    store<i32>(a, load<i32>(a) + load<i32>(step + (<usize>load<i32>(at, 8) << 2)) * load<i32>(at, 12));
  }
  if (kernel == PLAN_SET) store<i32>(<usize>load<i32>(args), load<i32>(args, 4));
  else call(kernel, args);
}

/** Runs every task of `count` ops from `op`, in order. */
function runOps(op: usize, count: i32, step: usize, args: usize, call: Dispatch): void {
  for (let i = 0; i < count; i++) {
    const tasks = <usize>load<i32>(op, 4);
    for (let t: usize = 0; t < tasks; t++) runTask(op, t, step, args, call);
    op += opBytes(op);
  }
}

/** Sets `state` to the phase that starts at op `op` (index `index`) with unit `first`. */
function enterPhase(plan: usize, state: usize, op: usize, index: i32, first: i32): void {
  const ops = load<i32>(plan);
  let count = 0;
  let at = op;
  for (let i = index; i < ops; i++) {
    count++;
    if ((load<i32>(at, 16) & OP_BARRIER) != 0) break;
    at += opBytes(at);
  }
  store<i32>(state, <i32>op, S_OP);
  store<i32>(state, index, S_INDEX);
  store<i32>(state, count, S_COUNT);
  store<i32>(state, first, S_FIRST);
  store<i32>(state, count == 1 ? load<i32>(op, 4) : 1, S_UNITS);
}

/** Moves `state` on to the phase that holds unit `unit` (phases only move forward). */
function seekPhase(plan: usize, state: usize, unit: i32): void {
  for (;;) {
    const first = load<i32>(state, S_FIRST);
    const units = load<i32>(state, S_UNITS);
    if (unit < first + units) return;
    let op = <usize>load<i32>(state, S_OP);
    const count = load<i32>(state, S_COUNT);
    for (let i = 0; i < count; i++) op += opBytes(op);
    enterPhase(plan, state, op, load<i32>(state, S_INDEX) + count, first + units);
  }
}

/** Units of a step: the sum over its phases. */
function planUnits(plan: usize, state: usize): i32 {
  const ops = load<i32>(plan);
  enterPhase(plan, state, plan + PLAN_HEADER_BYTES, 0, 0);
  while (load<i32>(state, S_INDEX) + load<i32>(state, S_COUNT) < ops) {
    seekPhase(plan, state, load<i32>(state, S_FIRST) + load<i32>(state, S_UNITS));
  }
  return load<i32>(state, S_FIRST) + load<i32>(state, S_UNITS);
}

/** Claims the next unit of epoch `epoch`, or NO_UNIT when they are all taken or the epoch is over. */
function claim(ctl: usize, epoch: i32, total: i32): i32 {
  let v = atomic.load<i64>(ctl + C_NEXT);
  while (<i32>(v >> 32) == epoch && <i32>v < total) {
    const seen = atomic.cmpxchg<i64>(ctl + C_NEXT, v, v + 1);
    if (seen == v) return <i32>v;
    v = seen;
  }
  return NO_UNIT;
}

/** Waits until `need` units of this epoch are done: PLAN_DONE once they are, or why not. */
function waitDone(ctl: usize, need: i32, budget: i32): i32 {
  for (let s = 0; s < SPIN; s++) {
    if (atomic.load<i32>(ctl + C_DONE) >= need) return PLAN_DONE;
    if (atomic.load<i32>(ctl + C_ABORT) != 0) return PLAN_ABORTED;
  }
  let done = atomic.load<i32>(ctl + C_DONE);
  for (let parks = 0; done < need; parks++) {
    if (atomic.load<i32>(ctl + C_ABORT) != 0) return PLAN_ABORTED;
    if (budget > 0 && parks >= budget) return PLAN_YIELDED;
    // Registered before wait32 re-checks done: a finisher adds to done, then reads sleepers,
    // so either it sees this thread and notifies or this wait32 sees the new count.
    atomic.add<i32>(ctl, 1, C_SLEEPERS);
    memory.atomic.wait32(ctl + C_DONE, done, PARK_NS);
    // Addressed from ctl with immediate offsets: Node 20's V8 was seen to return from wait32
    // with its address operand's local clobbered (a reload through it read 0 for ever).
    atomic.sub<i32>(ctl, 1, C_SLEEPERS);
    done = atomic.load<i32>(ctl, C_DONE);
  }
  return PLAN_DONE;
}

/**
 * claim() for a worker: only units of split phases. A run of one-task ops stays on the calling
 * thread: handing such chains from core to core costs cache misses, and a worker descheduled in
 * the middle of one would stall the step. While the next unit is of such a run, the worker waits
 * for the next unit to finish.
 */
function claimSplit(plan: usize, ctl: usize, state: usize, epoch: i32, total: i32): i32 {
  // done before next: a unit finished after this read ends the wait below.
  let done = atomic.load<i32>(ctl, C_DONE);
  let v = atomic.load<i64>(ctl + C_NEXT);
  while (<i32>(v >> 32) == epoch && <i32>v < total) {
    seekPhase(plan, state, <i32>v);
    if (load<i32>(state, S_UNITS) > 1) {
      if (atomic.cmpxchg<i64>(ctl + C_NEXT, v, v + 1) == v) return <i32>v;
    } else if (waitDone(ctl, done + 1, 0) != PLAN_DONE) return NO_UNIT;
    done = atomic.load<i32>(ctl, C_DONE);
    v = atomic.load<i64>(ctl + C_NEXT);
  }
  return NO_UNIT;
}

/**
 * Claims (as a worker: units of split phases only) and runs units of epoch `epoch` until none
 * is left. Returns PLAN_DONE then, or, when a wait for an earlier phase ran out of budget or was
 * aborted, why (the claimed unit is kept in the state for the resume).
 */
function work(plan: usize, ctl: usize, state: usize, args: usize, worker: bool, epoch: i32, total: i32, budget: i32, call: Dispatch): i32 {
  const step = <usize>load<i32>(plan, 4);
  let unit = load<i32>(state, S_PENDING);
  if (unit == NO_UNIT) unit = worker ? claimSplit(plan, ctl, state, epoch, total) : claim(ctl, epoch, total);
  while (unit != NO_UNIT) {
    seekPhase(plan, state, unit);
    const first = load<i32>(state, S_FIRST);
    const r = waitDone(ctl, first, budget);
    if (r != PLAN_DONE) {
      store<i32>(state, unit, S_PENDING);
      return r;
    }
    store<i32>(state, NO_UNIT, S_PENDING);
    const op = <usize>load<i32>(state, S_OP);
    const count = load<i32>(state, S_COUNT);
    if (count == 1) runTask(op, <usize>(unit - first), step, args, call);
    else runOps(op, count, step, args, call);
    atomic.add<i32>(ctl + C_DONE, 1);
    if (atomic.load<i32>(ctl + C_SLEEPERS) > 0) atomic.notify(ctl + C_DONE, -1);
    unit = worker ? claimSplit(plan, ctl, state, epoch, total) : claim(ctl, epoch, total);
  }
  return PLAN_DONE;
}

/** Waits (bounded) for an epoch after `epoch`: it, or NO_UNIT when stopped, aborted or idle too long. */
function nextEpoch(ctl: usize, epoch: i32): i32 {
  for (let s = 0; s < IDLE_SPIN; s++) {
    const e = <i32>(atomic.load<i64>(ctl + C_NEXT) >> 32);
    if (e != epoch) return e;
    if (atomic.load<i32>(ctl + C_STOP) != 0 || atomic.load<i32>(ctl + C_ABORT) != 0) return NO_UNIT;
  }
  return NO_UNIT;
}

/**
 * Runs the plan as thread `thread` of `threads`. Thread 0 (the caller, after plan_begin) returns
 * when the step is done; workers take units of each epoch they find and wait a bounded time for
 * the next one before they return. `budget`: parks of PARK_NS one wait may take before returning
 * PLAN_YIELDED (0: no limit); the caller then calls again with the same arguments to resume.
 * The calling JS thread uses it to look at its event loop (a dead worker) now and then.
 */
export function runPlan(plan: usize, thread: i32, threads: i32, budget: i32, call: Dispatch): i32 {
  const ctl = <usize>load<i32>(plan, 8);
  const args = ctl + C_THREADS + (<usize>threads << 6) + <usize>thread * <usize>(PLAN_MAX_ARGS * 4);
  if (!ASC_FEATURE_THREADS || threads == 1) {
    runOps(plan + PLAN_HEADER_BYTES, load<i32>(plan), <usize>load<i32>(plan, 4), args, call);
    return PLAN_DONE;
  }
  const state = ctl + C_THREADS + (<usize>thread << 6);
  const total = load<i32>(ctl + C_UNITS);
  // Only a thread with a budget yields, so only its state may hold a unit to resume.
  const pending = budget > 0 ? load<i32>(state, S_PENDING) : NO_UNIT;
  store<i32>(state, pending, S_PENDING);
  enterPhase(plan, state, plan + PLAN_HEADER_BYTES, 0, 0);
  const epoch = <i32>(atomic.load<i64>(ctl + C_NEXT) >> 32);
  if (pending != FINAL_WAIT) {
    const r = work(plan, ctl, state, args, thread != 0, epoch, total, budget, call);
    if (r != PLAN_DONE) return r;
  }
  if (thread == 0) {
    const r = waitDone(ctl, total, budget);
    store<i32>(state, r == PLAN_DONE ? NO_UNIT : FINAL_WAIT, S_PENDING);
    return r;
  }
  for (let e = nextEpoch(ctl, epoch); e != NO_UNIT; e = nextEpoch(ctl, e)) {
    enterPhase(plan, state, plan + PLAN_HEADER_BYTES, 0, 0);
    const r = work(plan, ctl, state, args, true, e, total, budget, call);
    if (r != PLAN_DONE) return r;
  }
  return PLAN_DONE;
}

/**
 * Opens the next step of a plan run on several threads (no unit of the previous step may be
 * unfinished). `fresh` (no worker is in the plan): also clears the stop and abort flags.
 */
export function plan_begin(plan: usize, fresh: i32): void {
  if (ASC_FEATURE_THREADS) {
    const ctl = <usize>load<i32>(plan, 8);
    if (fresh != 0) {
      atomic.store<i32>(ctl + C_STOP, 0);
      atomic.store<i32>(ctl + C_ABORT, 0);
    }
    store<i32>(ctl + C_THREADS, NO_UNIT, S_PENDING);
    atomic.store<i32>(ctl + C_DONE, 0);
    // Epochs stay non-negative, clear of NO_UNIT.
    const epoch = (atomic.load<i64>(ctl + C_NEXT) >> 32) + 1;
    atomic.store<i64>(ctl + C_NEXT, (epoch & 0x7fffffff) << 32);
  }
}

/** Makes the workers leave the plan once out of units, instead of waiting for its next step. */
export function plan_stop(plan: usize): void {
  if (ASC_FEATURE_THREADS) atomic.store<i32>(<usize>load<i32>(plan, 8) + C_STOP, 1);
}

/** Makes every thread of the plan's step leave at its next wait (a thread of it failed). */
export function plan_abort(plan: usize): void {
  if (ASC_FEATURE_THREADS) {
    const ctl = <usize>load<i32>(plan, 8);
    atomic.store<i32>(ctl + C_ABORT, 1);
    atomic.notify(ctl + C_DONE, -1);
  }
}

/** Clears the control block for `threads` threads once, before the plan's first step. */
export function plan_reset(plan: usize, threads: i32): void {
  const ctl = <usize>load<i32>(plan, 8);
  memory.fill(ctl, 0, <usize>planControlBytes(threads));
  store<i32>(ctl + C_UNITS, planUnits(plan, ctl + C_THREADS));
  for (let t = 0; t < threads; t++) store<i32>(ctl + C_THREADS + (<usize>t << 6), NO_UNIT, S_PENDING);
}

/** Bytes of the control block a plan for `threads` threads needs. */
export function plan_control_bytes(threads: i32): i32 {
  return planControlBytes(threads);
}
