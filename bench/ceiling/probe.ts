// Runs the wasm ceiling probe (ceiling.ts, compiled by scripts/bench.mjs) and reports the
// best of all runs: a ceiling is the most the engine reaches, not its typical speed.
import { readFileSync } from "node:fs";

/** What one thread of wasm reaches on this host. */
export interface Ceiling {
  /** f32x4 mul+add (strict SIMD), GFLOP/s. */
  mulAddGflops: number;
  /** f32x4 relaxed_madd, GFLOP/s. */
  relaxedMaddGflops: number;
  /** Streaming read of 1 MiB (cache resident), GB/s: the better of one and four concurrent streams. */
  readGbps1MiB: number;
  /** Streaming read of 256 MiB (main memory), GB/s: the better of one and four concurrent streams. */
  readGbps256MiB: number;
}

interface ProbeExports {
  mul_add_8(iters: number): number;
  mul_add_12(iters: number): number;
  relaxed_madd_8(iters: number): number;
  relaxed_madd_12(iters: number): number;
  read_sum(ptr: number, bytes: number): number;
  read_sum_4streams(ptr: number, bytes: number): number;
  tile_mul_add_4x2(ptr: number, iters: number): number;
  tile_relaxed_madd_4x2(ptr: number, iters: number): number;
}

const MiB = 1 << 20;
const PAGE = 65536;
const BIG_BYTES = 256 * MiB;
const SMALL_BYTES = MiB;
/** The reads start one page in, clear of the module's own low memory. */
const BASE = PAGE;

/** Seconds one call of `fn` takes. */
function seconds(fn: () => void): number {
  const t = performance.now();
  fn();
  return (performance.now() - t) / 1000;
}

/**
 * The compiled probe over its own 256 MiB memory. The ceiling is the best of every round run
 * so far: the suite runs a round between cases, so on a shared machine the ceiling is taken
 * over the whole run (the same periods of load the kernels saw), not a few seconds at the start.
 */
export class CeilingProbe {
  /** The best figures so far. */
  readonly best: Ceiling = { mulAddGflops: 0, relaxedMaddGflops: 0, readGbps1MiB: 0, readGbps256MiB: 0 };
  /** Rounds run so far. */
  rounds = 0;

  private constructor(private readonly p: ProbeExports) {}

  /** Compiles the probe at `wasmPath`, warms it up and runs `rounds` rounds (a few seconds). */
  static async create(wasmPath: string, rounds = 10): Promise<CeilingProbe> {
    const memory = new WebAssembly.Memory({ initial: (BASE + BIG_BYTES) / PAGE + 1, maximum: 65536 });
    // Touch every page: reading never-written pages would hit the kernel's shared zero page.
    // Small values: the tile probes sum products of them a million times and stay normal.
    new Float32Array(memory.buffer).fill(1e-3);
    let mod: WebAssembly.Module;
    try {
      mod = await WebAssembly.compile(readFileSync(wasmPath));
    } catch (e) {
      throw new Error(`ceiling probe: this host cannot compile ${wasmPath} (relaxed SIMD needs --experimental-wasm-relaxed-simd on Node 20): ${(e as Error).message}`);
    }
    const inst = await WebAssembly.instantiate(mod, { env: { memory, abort: () => undefined } });
    const probe = new CeilingProbe(inst.exports as unknown as ProbeExports);
    // Warm-up so the measured runs use the optimizing tier.
    for (let i = 0; i < 3; i++) {
      probe.p.mul_add_8(2e5);
      probe.p.mul_add_12(2e5);
      probe.p.relaxed_madd_8(2e5);
      probe.p.relaxed_madd_12(2e5);
      probe.p.tile_mul_add_4x2(BASE, 2e5);
      probe.p.tile_relaxed_madd_4x2(BASE, 2e5);
      probe.p.read_sum(BASE, SMALL_BYTES);
    }
    for (let r = 0; r < rounds; r++) probe.round();
    return probe;
  }

  /** One run of every probe (about 100 ms); keeps each one's best. */
  round(): void {
    const { p, best } = this;
    const iters = 1_000_000;
    const passes = 100;
    // Register chains and the GEMM-shaped tile over an L1-resident buffer; the best counts.
    best.mulAddGflops = Math.max(
      best.mulAddGflops,
      (iters * 64) / seconds(() => p.mul_add_8(iters)) / 1e9,
      (iters * 96) / seconds(() => p.mul_add_12(iters)) / 1e9,
      (iters * 64) / seconds(() => p.tile_mul_add_4x2(BASE, iters)) / 1e9,
    );
    best.relaxedMaddGflops = Math.max(
      best.relaxedMaddGflops,
      (iters * 64) / seconds(() => p.relaxed_madd_8(iters)) / 1e9,
      (iters * 96) / seconds(() => p.relaxed_madd_12(iters)) / 1e9,
      (iters * 64) / seconds(() => p.tile_relaxed_madd_4x2(BASE, iters)) / 1e9,
    );
    // Reads: one stream, and four concurrent ones (what blocked kernels do); the better counts.
    for (const read of [p.read_sum, p.read_sum_4streams]) {
      const small = seconds(() => {
        for (let i = 0; i < passes; i++) read(BASE, SMALL_BYTES);
      });
      best.readGbps1MiB = Math.max(best.readGbps1MiB, (passes * SMALL_BYTES) / small / 1e9);
      best.readGbps256MiB = Math.max(best.readGbps256MiB, BIG_BYTES / seconds(() => read(BASE, BIG_BYTES)) / 1e9);
    }
    this.rounds++;
  }

  /**
   * Read bandwidth (GB/s) at `bytes` of working set (capped at 256 MiB), the better of one and
   * four streams, best of 3: the ceiling of a memory-bound kernel that streams that many bytes
   * per call, with the same share of cache hits between calls.
   */
  readGbps(bytes: number): number {
    const { p } = this;
    const size = Math.max(128, Math.min(BIG_BYTES, Math.floor(bytes / 128) * 128));
    const passes = Math.max(1, Math.round((4 * MiB) / size));
    let top = 0;
    for (const read of [p.read_sum, p.read_sum_4streams]) {
      for (let i = 0; i < passes; i++) read(BASE, size); // bring the range to its steady cache state
      for (let r = 0; r < 3; r++) {
        const s = seconds(() => {
          for (let i = 0; i < passes; i++) read(BASE, size);
        });
        top = Math.max(top, (passes * size) / s / 1e9);
      }
    }
    return top;
  }
}
