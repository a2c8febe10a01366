// Feature detection by validating tiny probe modules: the only portable way to
// know what a host's wasm engine accepts (user agents and versions lie or lag).

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
/** (func (result v128) (i32x4.splat (i32.const 0))) */
const SIMD_PROBE = new Uint8Array([
  ...HEADER, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x11, 0x0b,
]);
/** (func (result v128) (f32x4.relaxed_madd (splat 0) (splat 0) (splat 0))) */
const RELAXED_PROBE = new Uint8Array([
  ...HEADER, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x13, 0x01, 0x11, 0x00,
  0x41, 0x00, 0xfd, 0x11, 0x41, 0x00, 0xfd, 0x11, 0x41, 0x00, 0xfd, 0x11,
  0xfd, 0x85, 0x02, 0x0b,
]);
/** (memory 1 1 shared) (func (drop (i32.atomic.load (i32.const 0)))) */
const THREADS_PROBE = new Uint8Array([
  ...HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
  0x05, 0x04, 0x01, 0x03, 0x01, 0x01,
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x41, 0x00, 0xfe, 0x10, 0x02, 0x00, 0x1a, 0x0b,
]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** What the host offers, with the reason for every "no". */
export interface HostFeatures {
  simd: boolean;
  relaxedSimd: boolean;
  /** Shared wasm memory plus a way to start workers on it. */
  threads: boolean;
  /** Logical cores the host reports (1 when unknown). */
  hardwareConcurrency: number;
  /** Why a missing feature is missing, keyed by feature. */
  reasons: Partial<Record<"simd" | "relaxedSimd" | "threads", string>>;
}

interface HostGlobals {
  crossOriginIsolated?: boolean;
  Worker?: unknown;
  navigator?: { hardwareConcurrency?: number };
  process?: { versions?: { node?: string } };
}

/** Whether this host can start workers: Node's worker_threads or a global Worker. */
export function hasWorkers(): boolean {
  const g = globalThis as HostGlobals;
  return typeof g.Worker === "function" || typeof g.process?.versions?.node === "string";
}

/** Logical cores: navigator.hardwareConcurrency, or node:os where there is no navigator (Node 20). */
async function coreCount(): Promise<number> {
  const g = globalThis as HostGlobals;
  if (typeof g.navigator?.hardwareConcurrency === "number") return g.navigator.hardwareConcurrency;
  if (typeof g.process?.versions?.node === "string") {
    const os = await import("node:os");
    return typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
  }
  return 1;
}

/** Probes the host; cheap enough (three tiny validations) to call per runtime. */
export async function detectFeatures(): Promise<HostFeatures> {
  const g = globalThis as HostGlobals;
  const reasons: HostFeatures["reasons"] = {};
  const simd = validates(SIMD_PROBE);
  if (!simd) reasons.simd = "the engine does not validate a SIMD module";
  const relaxedSimd = simd && validates(RELAXED_PROBE);
  if (!relaxedSimd) {
    reasons.relaxedSimd = simd
      ? "the engine does not validate relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)"
      : "no SIMD";
  }
  let threads = false;
  if (typeof SharedArrayBuffer === "undefined") {
    reasons.threads = g.crossOriginIsolated === false
      ? "no SharedArrayBuffer: the page is not cross-origin isolated (COOP/COEP headers)"
      : "no SharedArrayBuffer in this host";
  } else if (g.crossOriginIsolated === false) {
    reasons.threads = "the page is not cross-origin isolated (COOP/COEP headers)";
  } else if (!validates(THREADS_PROBE)) {
    reasons.threads = "the engine does not validate shared memory and atomics";
  } else if (!hasWorkers()) {
    reasons.threads = "no Worker in this host (edge isolates run single-threaded)";
  } else {
    try {
      new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
      threads = true;
    } catch (e) {
      reasons.threads = `shared WebAssembly.Memory is refused: ${(e as Error).message}`;
    }
  }
  const hardwareConcurrency = Math.max(1, await coreCount());
  return { simd, relaxedSimd, threads, hardwareConcurrency, reasons };
}
