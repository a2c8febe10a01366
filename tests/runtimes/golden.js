// Golden cases every runtime of the matrix must pass, importing the BUILT package the way
// its users do. Plain ESM JavaScript on purpose: Node, Deno, Bun, Chromium, workerd and the
// edge-runtime VM all load it unchanged (no TypeScript step, no host API beyond
// WebAssembly). The cases themselves are data (tests/fixtures/runtimes/golden.json, made by
// tests/runtimes/golden_cases.ts via make_golden.mjs): kernel calls against float64 references
// and model runs against PyTorch's token ids. The host driver loads that JSON (and the model
// files it names) its own way and passes them in.
import { createRuntime, greedy, loadSafetensors } from "simdformer";

/** Row ranges [r0, r1) splitting `rows` into at most `parts` nearly equal pieces. */
function rowRanges(rows, parts) {
  const out = [];
  const step = Math.ceil(rows / Math.max(1, parts));
  for (let r0 = 0; r0 < rows; r0 += step) out.push([r0, Math.min(rows, r0 + step)]);
  return out;
}

/**
 * How to run each kernel of golden.json, mirroring its registry entry's `run` (src/kernels/
 * entries/: same strides and output layout, so the stored float64 reference applies). `x` is
 * the context: k kernels, d dims, p staged inputs (byte offsets), q params, alloc(floats, fill)
 * for more scratch, and tasks(kernel, argLists): the engine's runTasks, which spreads the
 * argument lists over the thread pool. A case with `split` > 1 runs its kernel as that many
 * row (or element) tasks, so threaded hosts exercise their workers; results must not change.
 * Returns the output { ptr, len } (with { rows, cols, ld } when it is strided), or a number.
 * A new kernel in golden.json needs one entry here.
 */
export const KERNEL_CALLS = {
  async f32_add(x) {
    const { n } = x.d;
    const out = x.alloc(n);
    const parts = rowRanges(n, x.split);
    await x.tasks("f32_add", parts.map(([i0, i1]) => [i1 - i0, x.p.a + 4 * i0, x.p.b + 4 * i0, out + 4 * i0]));
    return { ptr: out, len: n };
  },
  f32_dot: (x) => x.k.f32_dot(x.d.n, x.p.a, x.p.b),
  // src/kernels/entries/gemm.ts: lda k+3, ldb n+2 (B^T: k+1), ldc n+1; C starts as c0, is the output.
  async f32_gemm(x) {
    const { m, n, k, bt, act = 0, acc } = x.d;
    const lda = k + 3;
    const ldc = n + 1;
    const packed = x.alloc(x.k.f32_gemm_packed_size(k, n));
    if (bt) x.k.f32_gemm_pack_bt(k, n, x.p.b, k + 1, packed);
    else x.k.f32_gemm_pack_b(k, n, x.p.b, n + 2, packed);
    const flags = act | (acc ? 0x100 : 0);
    const bias = x.p.bias ?? 0;
    await x.tasks("f32_gemm", rowRanges(m, x.split).map(([r0, r1]) =>
      [r1 - r0, n, k, x.p.a + 4 * r0 * lda, lda, packed, x.p.c0 + 4 * r0 * ldc, ldc, bias, flags]));
    return { ptr: x.p.c0, len: m * ldc };
  },
  // src/kernels/entries/softmax.ts: ldx n+3, ldo n+1, ldm n+2 (mask 2: 0, broadcast); output unpadded.
  async f32_softmax(x) {
    const { rows, n, mask, causal } = x.d;
    const ldx = n + 3;
    const ldo = n + 1;
    const ldm = mask === 2 ? 0 : n + 2;
    const out = x.alloc(rows * ldo);
    // A row range keeps its causal limit by shifting `causal` with its first row.
    await x.tasks("f32_softmax", rowRanges(rows, x.split).map(([r0, r1]) => [
      r1 - r0, n, x.p.x + 4 * r0 * ldx, ldx, out + 4 * r0 * ldo, ldo, x.q.scale,
      x.p.mask ? x.p.mask + 4 * r0 * ldm : 0, ldm, causal < 0 ? causal : causal + r0,
    ]));
    return { ptr: out, len: rows * ldo, rows, cols: n, ld: ldo };
  },
  // src/kernels/entries/norms.ts: ldx n+5, ldo n+1; output unpadded.
  async f32_layernorm(x) {
    const { rows, n } = x.d;
    const out = x.alloc(rows * (n + 1));
    await x.tasks("f32_layernorm", rowRanges(rows, x.split).map(([r0, r1]) => [
      r1 - r0, n, x.p.x + 4 * r0 * (n + 5), n + 5, x.p.gamma, x.p.beta ?? 0, out + 4 * r0 * (n + 1), n + 1, x.q.eps,
    ]));
    return { ptr: out, len: rows * (n + 1), rows, cols: n, ld: n + 1 };
  },
};

/**
 * Runtime configurations run on every host: the build the host picks by itself; strict SIMD
 * on one thread, whose output bits must be identical on every host (wasm semantics are
 * deterministic there; relaxed SIMD may legally differ between engines); and strict SIMD
 * with the host's threads, whose bits must equal the one-thread run (work is split by rows,
 * never along a reduction).
 */
export const CONFIGS = [
  { label: "auto", options: {} },
  { label: "strict", options: { simd: "strict", threads: 1 } },
  { label: "strict-threads", options: { simd: "strict" } },
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

const now = () => (globalThis.performance ?? Date).now();

/** FNV-1a over the output's bytes: equal hashes mean bit-identical outputs. */
export function hashF32(values) {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Copies `values` (numbers, or "NaN"/"Infinity"/"-Infinity" strings from JSON) into scratch. */
function stage(rt, values) {
  const ptr = rt.engine.scratch.alloc(Math.max(1, values.length) * 4);
  rt.engine.mem.f32.set(Float32Array.from(values, Number), ptr >>> 2);
  return ptr;
}

/** Runs one kernel case: stage, call, compare with the stored float64 reference. */
async function runKernelCase(rt, c) {
  const run = KERNEL_CALLS[c.kernel];
  if (!run) return { error: `no entry for kernel ${c.kernel} in golden.js KERNEL_CALLS` };
  let got;
  try {
    const p = {};
    for (const [name, values] of Object.entries(c.inputs)) p[name] = stage(rt, values);
    const ctx = {
      k: rt.kernels, d: c.dims, p, q: c.params, split: c.split ?? 1,
      alloc: (n, fill = 0) => stage(rt, new Float32Array(n).fill(fill)),
      tasks: (name, argLists) => rt.engine.runTasks(name, argLists),
    };
    const out = await run(ctx);
    if (typeof out === "number") got = Float32Array.of(out);
    else {
      const whole = rt.engine.mem.f32.slice(out.ptr >>> 2, (out.ptr >>> 2) + out.len);
      got = out.ld === undefined ? whole : new Float32Array(out.rows * out.cols);
      if (out.ld !== undefined) for (let r = 0; r < out.rows; r++) got.set(whole.subarray(r * out.ld, r * out.ld + out.cols), r * out.cols);
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
    const w = Number(c.expected[i]);
    if (Number.isNaN(w) && Number.isNaN(got[i])) continue;
    if (!Number.isFinite(w) && got[i] === w) continue;
    const err = Math.abs(got[i] - w);
    if (!(err <= maxErr)) maxErr = err; // NaN sticks
  }
  return { pass: maxErr <= bound, maxErr, bound, hash: hashF32(got) };
}

/**
 * Runs one model case: load the model file (an asset the host provides), greedy-decode the
 * case's sources (encoder-decoder) or prompts (decoder-only), and require the very token ids
 * stored (made by PyTorch). Ids are exact: a difference is a wrong token, not a rounding.
 */
async function runGreedyCase(rt, c, opts) {
  if (!opts.asset) return { error: `case needs the asset ${c.model}, but this host driver gives no asset()` };
  const bytes = await opts.asset(c.model);
  const model = await loadSafetensors(rt, bytes, { file: c.model });
  try {
    const ids = await greedy(model, { src: c.src, prompts: c.prompts, maxNewTokens: c.maxNewTokens });
    const got = JSON.stringify(ids);
    const want = JSON.stringify(c.expected);
    return got === want ? { pass: true, hash: got } : { pass: false, error: `ids ${got}, expected ${want}`, hash: got };
  } finally {
    model.dispose();
  }
}

/**
 * Runs one translation case through the public text API: rt.loadModel() (the package's
 * embedded default model, found through the host's module URL; hosts without one, such as
 * workerd, pass `embeddedModel: false` and the bytes come from their asset()), then
 * translate() per sentence. Token ids must be PyTorch's, and the text their decoding.
 */
async function runTranslateCase(rt, c, opts) {
  const embedded = opts.embeddedModel !== false;
  if (!embedded && !opts.asset) return { error: `case needs the asset ${c.model}, but this host driver gives no asset()` };
  const tm = embedded ? await rt.loadModel() : await rt.loadModel(await opts.asset(c.model), { file: c.model });
  try {
    const got = [];
    for (const sentence of c.sentences) {
      const t = await tm.translate(sentence);
      got.push({ ids: t.ids, text: t.text });
    }
    const bad = got.flatMap((g, i) =>
      JSON.stringify(g) === JSON.stringify(c.expected[i]) ? [] : [`"${c.sentences[i]}": ${JSON.stringify(g)}, expected ${JSON.stringify(c.expected[i])}`]);
    const hash = JSON.stringify(got.map((g) => g.ids));
    return bad.length === 0 ? { pass: true, hash } : { pass: false, error: bad.join("; "), hash };
  } finally {
    tm.dispose();
  }
}

/** Case kinds by `kind` field of golden.json; a new kind is one entry. */
export const CASE_KINDS = {
  kernel: runKernelCase,
  greedy: runGreedyCase,
  translate: runTranslateCase,
};

/**
 * Runs every golden case under every CONFIGS entry.
 * @param fixture parsed tests/fixtures/runtimes/golden.json
 * @param opts.wasm optional (label) => WasmSource, for hosts that cannot read the package's
 *   wasm files themselves (workerd: a module binding per build; edge VM: bytes)
 * @param opts.host optional { runtime, version } when the globals cannot tell (workerd, edge)
 * @param opts.asset optional async (name) => Uint8Array: the files named in fixture.assets
 *   (models), read the host's way (fs, fetch, a service binding); each is read once
 * @param opts.embeddedModel false where the package cannot locate its embedded default model
 *   (no module URL: workerd, the edge VM); translate cases then load it through asset()
 * @returns { runtime, version, pass, runs: [{ label, features, pass, ms, results }] }
 */
export async function runGolden(fixture, opts = {}) {
  const host = { ...hostInfo(), ...opts.host };
  const assets = new Map();
  const asset = opts.asset && ((name) => {
    if (!assets.has(name)) assets.set(name, opts.asset(name));
    return assets.get(name);
  });
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
      // Wall time of the case (workerd freezes its clocks during compute: 0 there).
      const c0 = now();
      try {
        r = kind ? await kind(rt, c, { ...opts, asset }) : { error: `unknown case kind ${c.kind}` };
      } catch (e) {
        r = { error: `${e?.name}: ${e?.message}` };
      }
      results.push({ name: c.name, pass: r.pass === true && !r.error, ms: now() - c0, ...r });
    }
    const features = JSON.parse(JSON.stringify(rt.features));
    rt.dispose();
    runs.push({ label: config.label, features, pass: results.every((r) => r.pass), ms: Date.now() - t0, results });
  }
  return { ...host, pass: runs.length > 0 && runs.every((r) => r.pass), runs };
}
