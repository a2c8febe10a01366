// Golden cases every runtime of the matrix must pass, importing the BUILT package the way
// its users do. Plain ESM JavaScript on purpose: Node, Deno, Bun, Chromium, workerd and the
// edge-runtime VM all load it unchanged (no TypeScript step, no host API beyond
// WebAssembly). The cases themselves are data (tests/fixtures/runtimes/golden.json, made by
// tests/runtimes/make_golden.ts); the host driver loads that JSON its own way and passes it in.
import { createRuntime } from "simdformer";

/**
 * How to call each kernel on staged inputs: `out` gives the output length in floats (absent:
 * the kernel returns a number), `call` runs it with the staged byte offsets. Inputs are named
 * as the registry's makeCase names them. A new kernel in golden.json needs one entry here.
 */
export const KERNEL_CALLS = {
  f32_add: { out: (d) => d.n, call: (k, d, p) => k.f32_add(d.n, p.a, p.b, p.out) },
  f32_dot: { call: (k, d, p) => k.f32_dot(d.n, p.a, p.b) },
};

/**
 * Runtime configurations run on every host: the build the host picks by itself, and the
 * strict-SIMD build, whose output bits must be identical on every host (wasm semantics are
 * deterministic there; relaxed SIMD may legally differ between engines).
 */
export const CONFIGS = [
  { label: "auto", options: {} },
  { label: "strict", options: { simd: "strict", threads: 1 } },
];

/** Which host this is, from globals only (process.versions.node exists in Deno and Bun too). */
export function hostInfo() {
  const g = globalThis;
  if (g.Deno?.version) return { runtime: "deno", version: g.Deno.version.deno };
  if (g.Bun?.version) return { runtime: "bun", version: g.Bun.version };
  if (typeof g.EdgeRuntime === "string") return { runtime: "edge-runtime", version: "" };
  if (g.navigator?.userAgent === "Cloudflare-Workers") return { runtime: "workerd", version: "" };
  if (g.process?.versions?.node) return { runtime: "node", version: g.process.versions.node };
  const chrome = /(?:Headless)?Chrome\/([\d.]+)/.exec(g.navigator?.userAgent ?? "");
  if (chrome) return { runtime: "chromium", version: chrome[1] };
  return { runtime: "unknown", version: "" };
}

/** FNV-1a over the output's bytes: equal hashes mean bit-identical outputs. */
export function hashF32(values) {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

function stage(rt, values) {
  const ptr = rt.engine.scratch.alloc(values.length * 4);
  rt.engine.mem.f32.set(values, ptr >>> 2);
  return ptr;
}

/** Runs one kernel case: stage, call, compare with the stored float64 reference. */
function runKernelCase(rt, c) {
  const spec = KERNEL_CALLS[c.kernel];
  if (!spec) return { error: `no call spec for kernel ${c.kernel} in golden.js KERNEL_CALLS` };
  const p = {};
  for (const [name, values] of Object.entries(c.inputs)) p[name] = stage(rt, values);
  let got;
  try {
    if (spec.out) {
      const len = spec.out(c.dims);
      p.out = stage(rt, new Float32Array(len));
      spec.call(rt.kernels, c.dims, p, c.params);
      got = rt.engine.mem.f32.slice(p.out >>> 2, (p.out >>> 2) + len);
    } else {
      got = Float32Array.of(spec.call(rt.kernels, c.dims, p, c.params));
    }
  } finally {
    rt.engine.scratch.reset();
  }
  if (got.length !== c.expected.length) {
    return { error: `output length: expected ${c.expected.length}, found ${got.length}`, hash: hashF32(got) };
  }
  const bound = c.tolerance.abs + c.tolerance.rel * c.scale;
  let maxErr = 0;
  for (let i = 0; i < got.length; i++) {
    const want = c.expected[i];
    // The fixture stores non-finite references as strings ("NaN", "Infinity", "-Infinity").
    const w = typeof want === "string" ? Number(want) : want;
    if (Number.isNaN(w) && Number.isNaN(got[i])) continue;
    if (!Number.isFinite(w) && got[i] === w) continue;
    const err = Math.abs(got[i] - w);
    if (!(err <= maxErr)) maxErr = err; // NaN sticks
  }
  return { pass: maxErr <= bound, maxErr, bound, hash: hashF32(got) };
}

/** Case kinds by `kind` field of golden.json; a new kind (e.g. a model translation) is one entry. */
export const CASE_KINDS = {
  kernel: runKernelCase,
};

/**
 * Runs every golden case under every CONFIGS entry.
 * @param fixture parsed tests/fixtures/runtimes/golden.json
 * @param opts.wasm optional (label) => WasmSource, for hosts that cannot read the package's
 *   wasm files themselves (workerd: a module binding per build; edge VM: bytes)
 * @param opts.host optional { runtime, version } when the globals cannot tell (workerd, edge)
 * @returns { runtime, version, pass, runs: [{ label, features, pass, ms, results }] }
 */
export async function runGolden(fixture, opts = {}) {
  const host = { ...hostInfo(), ...opts.host };
  const runs = [];
  for (const config of CONFIGS) {
    const t0 = Date.now();
    const options = { ...config.options };
    if (opts.wasm) options.wasm = opts.wasm(config.label);
    let rt;
    try {
      rt = await createRuntime(options);
    } catch (e) {
      runs.push({ label: config.label, pass: false, error: `createRuntime: ${e?.name}: ${e?.message}`, results: [] });
      continue;
    }
    const results = [];
    for (const c of fixture.cases) {
      const kind = CASE_KINDS[c.kind];
      let r;
      try {
        r = kind ? await kind(rt, c, opts) : { error: `unknown case kind ${c.kind}` };
      } catch (e) {
        r = { error: `${e?.name}: ${e?.message}` };
      }
      results.push({ name: c.name, pass: r.pass === true && !r.error, ...r });
    }
    const features = JSON.parse(JSON.stringify(rt.features));
    rt.dispose();
    runs.push({ label: config.label, features, pass: results.every((r) => r.pass), ms: Date.now() - t0, results });
  }
  return { ...host, pass: runs.length > 0 && runs.every((r) => r.pass), runs };
}
