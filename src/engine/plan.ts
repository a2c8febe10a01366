// A forward step compiled into a flat list of kernel calls in wasm memory, run by run_plan
// (assembly/plan.ts) with no JS between the ops. Ops are not written twice: while the engine
// records (Engine.record), every runTasks call of the op-by-op code is kept instead of run.
// The step is recorded at the real step values (positions, token ids) and once more per
// value with that value moved by one; every argument is then base + sum of value x
// multiplier, and the multipliers become patches that run_plan applies from the step header.
// One more recording at other values checks the result; anything not linear (a buffer whose
// size follows the position, a split that changes) refuses to compile and the caller stays
// on the op-by-op path.
import { ShapeError } from "../errors.js";
import type { Engine } from "./engine.js";
import type { KernelArgs, KernelName } from "./kernel_abi.js";
import { f32Bytes, ScratchArena } from "./memory.js";

/** Kernel id of the plan's own i32 store (pointer, value): PLAN_SET of assembly/plan.ts. */
export const PLAN_SET = 1000;
/** Op flag: the threads meet at a barrier after this op. */
const OP_BARRIER = 1;
const PLAN_MAX_ARGS = 32;

/** Indices 0 .. length - 1 of a tuple. */
type Indices<T extends readonly unknown[]> = { [I in keyof T]: I extends `${infer N extends number}` ? N : never }[number];

/** A plan table entry of kernel `K`: its f32 arguments can only be indices of its own arguments. */
export type PlanKernelEntry = { [K in KernelName]: { name: K; f32: readonly Indices<KernelArgs<K>>[] } }[KernelName];

/**
 * Kernels a plan may call, in the order of the kernel ids of assembly/plan_calls.ts, with
 * the indices of their f32 arguments (stored as bits; all others are i32); a step calling any
 * other kernel is refused (PlanRefused) and runs op by op. tests/engine/kernel_calls.test.ts
 * checks the ids, argument counts and f32 indices against both plan_calls.ts and every build.
 */
export const PLAN_KERNELS = [
  { name: "f32_add", f32: [] },
  { name: "f32_gemm", f32: [] },
  { name: "f32_gemv", f32: [] },
  { name: "f32_gemm_nt", f32: [9] },
  { name: "f32_gemm_nn", f32: [] },
  { name: "f32_softmax", f32: [6] },
  { name: "f32_layernorm", f32: [8] },
  { name: "f32_rmsnorm", f32: [7] },
  { name: "f32_relu", f32: [] },
  { name: "f32_gelu", f32: [] },
  { name: "f32_gelu_tanh", f32: [] },
  { name: "f32_silu", f32: [] },
  { name: "f32_swiglu", f32: [] },
  { name: "f32_sinusoidal", f32: [] },
  { name: "f32_rope", f32: [6] },
  { name: "f32_embed", f32: [7] },
  { name: "f32_attention", f32: [13] },
  { name: "f32_additive_scores", f32: [] },
  { name: "q8_quantize_rows", f32: [] },
  { name: "q8_0_gemv", f32: [] },
  { name: "q4_0_gemv", f32: [] },
  { name: "q8_0_gemm", f32: [] },
  { name: "q4_0_gemm", f32: [] },
  { name: "f32_copy_rows", f32: [] },
  { name: "q8k_quantize_rows", f32: [] },
  { name: "q8_0_embed", f32: [7] },
  { name: "q4_0_embed", f32: [7] },
  { name: "f32_embed_packed", f32: [6] },
  { name: "q4_k_gemv", f32: [] },
  { name: "q5_k_gemv", f32: [] },
  { name: "q6_k_gemv", f32: [] },
  { name: "q4_k_gemm", f32: [] },
  { name: "q5_k_gemm", f32: [] },
  { name: "q6_k_gemm", f32: [] },
  { name: "f32_geglu", f32: [] },
  { name: "f32_geglu_f16", f32: [] },
  { name: "f32_softcap", f32: [3, 4] },
  { name: "q4_k_embed", f32: [6] },
  { name: "q5_k_embed", f32: [6] },
  { name: "q6_k_embed", f32: [6] },
] as const satisfies readonly PlanKernelEntry[];

/** Name under which Engine.record keeps the plan's own stores (stageI32 writes). */
export const PLAN_SET_NAME = "plan_set";

const kernelIds = new Map<RecordedCall["kernel"], number>(PLAN_KERNELS.map((k, i) => [k.name, i]));
kernelIds.set(PLAN_SET_NAME, PLAN_SET);

/** One runTasks call as recorded (or a writeI32 store, as PLAN_SET_NAME): the kernel and its tasks' arguments. */
export interface RecordedCall {
  kernel: KernelName | typeof PLAN_SET_NAME;
  tasks: number[][];
}

/** What a recorded step did, and the pointer it returned (where its output lands). */
export interface Recording<T> {
  calls: RecordedCall[];
  result: T;
}

/** A recording made with step value `slot` moved by `delta` from the base values. */
export interface Probe<T> {
  slot: number;
  delta: number;
  rec: Recording<T>;
}

const bits = new Float32Array(1);
const bitsI32 = new Int32Array(bits.buffer);
function f32Bits(x: number): number {
  bits[0] = x;
  return bitsI32[0];
}

/** Why a step cannot be a plan; the caller keeps the op-by-op path. */
export class PlanRefused extends ShapeError {}

function sameShape(a: readonly RecordedCall[], b: readonly RecordedCall[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i].kernel !== b[i].kernel || a[i].tasks.length !== b[i].tasks.length) return false;
    for (let t = 0; t < a[i].tasks.length; t++) if (a[i].tasks[t].length !== b[i].tasks[t].length) return false;
  }
  return true;
}

/**
 * Compiles recordings of one step into plan words (i32): the header (ops, step header
 * pointer, control block pointer, 0), then per op its kernel, tasks, argc, patches, flags,
 * the patches (task, argument, slot, multiplier) and the base arguments. `base` was recorded
 * at step values `values`, `probes` with one value moved each, `check` at `checkValues`.
 * Barriers go after every op the next op may not run on the same single thread (so always
 * after a split op), and after the last. Throws PlanRefused when the step is not linear in
 * its values.
 */
export function compilePlan(
  base: Recording<number>, values: readonly number[], probes: readonly Probe<number>[],
  check: Recording<number>, checkValues: readonly number[],
  stepPtr: number, ctlPtr: number, threads: number,
): Int32Array {
  for (const r of [...probes.map((p) => p.rec), check]) {
    if (!sameShape(base.calls, r.calls)) throw new PlanRefused("plan: the step's calls change with the step values");
    if (r.result !== base.result) throw new PlanRefused("plan: the step's output moves with the step values");
  }
  const calls = base.calls.filter((c) => c.tasks.length > 0);
  const checks = check.calls.filter((c) => c.tasks.length > 0);
  const probeCalls = probes.map((p) => p.rec.calls.filter((c) => c.tasks.length > 0));
  const words: number[] = [calls.length, stepPtr, ctlPtr, 0];
  calls.forEach((call, ci) => {
    const id = kernelIds.get(call.kernel);
    if (id === undefined) throw new PlanRefused(`plan: kernel ${call.kernel} cannot run in a plan`);
    const f32: readonly number[] = id === PLAN_SET ? [] : PLAN_KERNELS[id].f32;
    const argc = call.tasks[0].length;
    if (argc > PLAN_MAX_ARGS) throw new PlanRefused(`plan: ${call.kernel} takes ${argc} arguments, at most ${PLAN_MAX_ARGS} fit`);
    const patches: number[] = [];
    const args: number[] = [];
    call.tasks.forEach((task, t) => {
      task.forEach((v, j) => {
        const isF32 = f32.includes(j);
        let b = v;
        let predicted = v;
        probes.forEach((p, pi) => {
          const moved = probeCalls[pi][ci].tasks[t][j];
          if (moved === v) return;
          const mult = (moved - v) / p.delta;
          if (isF32 || !Number.isInteger(mult)) throw new PlanRefused(`plan: ${call.kernel} argument ${j} is not linear in the step values`);
          patches.push(t, j, p.slot, mult);
          b -= values[p.slot] * mult;
          predicted += (checkValues[p.slot] - values[p.slot]) * mult;
        });
        if (checks[ci].tasks[t][j] !== predicted) throw new PlanRefused(`plan: ${call.kernel} argument ${j} is not linear in the step values`);
        args.push(isF32 ? f32Bits(b) : b | 0);
      });
    });
    const split = call.tasks.length > 1 || (calls[ci + 1]?.tasks.length ?? 1) > 1 || ci === calls.length - 1;
    words.push(id, call.tasks.length, argc, patches.length / 4, threads > 1 && split ? OP_BARRIER : 0);
    for (const w of patches) words.push(w);
    for (const w of args) words.push(w);
  });
  return Int32Array.from(words);
}

/** A step's values as the plan reads them from its header: one i32 per slot. */
export type StepValues = readonly number[];

/**
 * A compiled step: the plan words, its step header and control block in the scratch region,
 * and the scratch arena its buffers live in (kept for the plan's life, so its pointers stay valid).
 */
export class StepPlan {
  private disposed = false;

  private constructor(
    private readonly engine: Engine,
    private readonly arena: ScratchArena,
    /** Byte offsets of the plan words, the step header and the control block. */
    private readonly ptr: number,
    private readonly header: number,
    private readonly ctl: number,
    readonly threads: number,
    readonly slots: number,
    /** What the step returned (e.g. the logits' byte offset), the same at every step. */
    readonly result: number,
    /** Ops in the plan. */
    readonly ops: number,
  ) {}

  /**
   * Records `step` (op-by-op code whose runTasks calls become the plan) at `values`, at
   * each value moved by `deltas[slot]` and at `checkValues`, and compiles it for `threads`
   * threads. Throws PlanRefused (or the step's own error) when it cannot be a plan.
   */
  static async compile(
    engine: Engine, threads: number, values: StepValues, deltas: readonly number[], checkValues: StepValues,
    step: (values: StepValues) => Promise<number>,
  ): Promise<StepPlan> {
    const scratch = engine.regions.scratch;
    const arena = new ScratchArena(scratch);
    const header = scratch.alloc(f32Bytes(values.length));
    const ctl = scratch.alloc(engine.exports.plan_control_bytes(threads));
    let ptr = 0;
    try {
      // The first recording sizes the arena; later ones (after its reset) get the same buffers.
      await engine.record(arena, threads, () => step(values));
      const base = await engine.record(arena, threads, () => step(values));
      const probes: Probe<number>[] = [];
      for (let slot = 0; slot < values.length; slot++) {
        const moved = values.slice();
        moved[slot] += deltas[slot];
        probes.push({ slot, delta: deltas[slot], rec: await engine.record(arena, threads, () => step(moved)) });
      }
      const check = await engine.record(arena, threads, () => step(checkValues));
      const words = compilePlan(base, values, probes, check, checkValues, header, ctl, threads);
      ptr = scratch.alloc(words.byteLength);
      engine.mem.i32.set(words, ptr >>> 2);
      if (threads > 1) (engine.exports.plan_reset as (p: number, n: number) => void)(ptr, threads);
      return new StepPlan(engine, arena, ptr, header, ctl, threads, values.length, base.result, words[0]);
    } catch (e) {
      arena.dispose();
      for (const p of [header, ctl, ptr]) if (p) scratch.release(p);
      throw e;
    }
  }

  /** Runs one step at `values`; resolves to the step's result pointer once every thread is done. */
  async run(values: StepValues): Promise<number> {
    if (this.disposed) throw new ShapeError("StepPlan: run after dispose()");
    if (values.length !== this.slots) throw new ShapeError(`StepPlan: expected ${this.slots} step values, found ${values.length}`);
    this.engine.mem.i32.set(values, this.header >>> 2);
    await this.engine.runPlan(this.ptr, this.threads);
    return this.result;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (!this.engine.isDisposed) this.engine.releasePlan(this.ptr);
    this.arena.dispose();
    const scratch = this.engine.regions.scratch;
    for (const p of [this.header, this.ctl, this.ptr]) scratch.release(p);
  }
}
