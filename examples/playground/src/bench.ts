// Kernel bench panel: GEMM (prefill and decode shapes), softmax, LayerNorm and RMSNorm in
// this tab, simdformer (strict and relaxed SIMD where the browser validates them, 1 and N
// threads, each its own runtime) against onnxruntime-web and tfjs-backend-wasm on the same
// inputs. Every output is checked against simdformer strict/1 thread before anything is
// timed; a mismatch or a peer that cannot load is reported, never fatal. Results are rows of
// the flat schema of bench/results/*.json and can be downloaded.
import { createRuntime, type KernelExports, type Runtime } from "simdformer";
import { byId, el, errorText, fmt, nextFrame } from "./dom.js";
import type { Peer, PeerOp, PreparedPeerOp } from "./peers.js";

/** One measured figure, as in bench/results/*.json. */
export interface Row {
  suite: "playground-kernels";
  case: string;
  impl: string;
  threads: number;
  metric: string;
  value: number;
  unit: string;
}

/** A case: the peers' op (its inputs are ours too) and how to stage it in a runtime. */
interface Case {
  label: string;
  op: PeerOp;
  /** GEMM/GEMV flops of one call; 0 for softmax and norms (shown as time). */
  flops: number;
}

/** An implementation ready to be timed on one case. */
interface Prepared {
  run: () => void | Promise<unknown>;
  output: () => Promise<Float32Array>;
  dispose: () => void;
}

interface Impl {
  name: string;
  threads: number;
  prepare: (op: PeerOp) => Promise<Prepared | null>;
  dispose: () => void;
}

/** Seeded uniform floats in [-1, 1): both sides get the very same inputs (the package's Rng is internal, not in dist/). */
function randomF32(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** The shapes: "standard" are the README's kernel-bench shapes, "quick" small ones for a smoke run. */
function cases(size: "standard" | "quick"): Case[] {
  const q = size === "quick";
  const [pm, pk, pn] = q ? [32, 256, 256] : [128, 768, 768];
  const [dk, dn] = q ? [256, 512] : [768, 3072];
  const [sr, sn] = q ? [32, 256] : [128, 1024];
  const [lr, ln] = q ? [32, 256] : [128, 768];
  const [rr, rn] = q ? [32, 512] : [128, 4096];
  let seed = 1;
  const f = (n: number) => randomF32(n, seed++);
  return [
    { label: `GEMM prefill ${pm}x${pk}x${pn}`, op: { op: "matmul", m: pm, k: pk, n: pn, a: f(pm * pk), b: f(pk * pn) }, flops: 2 * pm * pk * pn },
    { label: `GEMM decode 1x${dk}x${dn}`, op: { op: "matmul", m: 1, k: dk, n: dn, a: f(dk), b: f(dk * dn) }, flops: 2 * dk * dn },
    { label: `softmax ${sr}x${sn}`, op: { op: "softmax", rows: sr, n: sn, x: f(sr * sn).map((v) => 4 * v) }, flops: 0 },
    { label: `LayerNorm ${lr}x${ln}`, op: { op: "layernorm", rows: lr, n: ln, x: f(lr * ln), gamma: f(ln), beta: f(ln), eps: 1e-5 }, flops: 0 },
    { label: `RMSNorm ${rr}x${rn}`, op: { op: "rmsnorm", rows: rr, n: rn, x: f(rr * rn), gamma: f(rn), eps: 1e-6 }, flops: 0 },
  ];
}

/** [start, end) ranges covering `n` in at most `parts` pieces, cut on multiples of `step` (as src/ops split work; that helper is not in dist/). */
function ranges(n: number, parts: number, step: number): Array<[number, number]> {
  const units = Math.ceil(n / step);
  const p = Math.max(1, Math.min(parts, units));
  const out: Array<[number, number]> = [];
  for (let t = 0; t < p; t++) {
    const a = Math.floor((units * t) / p) * step;
    const b = Math.min(n, Math.floor((units * (t + 1)) / p) * step);
    if (b > a) out.push([a, b]);
  }
  return out;
}

/**
 * simdformer on one runtime: the op's inputs staged in its memory once (B packed, as a model
 * packs its weights at load), then the kernel split over the runtime's threads the way the
 * model's ops split it (GEMM by row blocks of 8, decode GEMV by column panels, softmax and
 * norms by rows). One thread calls the kernel directly.
 */
function simdformerImpl(rt: Runtime, name: string): Impl {
  const e = rt.engine;
  const k = rt.kernels;
  const threads = rt.features.threads;
  // One task calls the kernel directly; more go through runTasks with work = Infinity (always
  // split over the threads: that is what the N-thread row measures).
  const split = <K extends keyof KernelExports>(kernel: K, tasks: Parameters<KernelExports[K]>[]): (() => void | Promise<void>) => {
    const fn = k[kernel] as (...args: Parameters<KernelExports[K]>) => void;
    return tasks.length === 1 ? () => fn(...tasks[0]) : () => e.runTasks(kernel, tasks);
  };
  return {
    name,
    threads,
    async prepare(op) {
      const ptrs: number[] = [];
      const upload = (x: Float32Array) => {
        const p = e.regions.scratch.alloc(x.length * 4);
        e.mem.f32.set(x, p >> 2);
        ptrs.push(p);
        return p;
      };
      const zeros = (n: number) => upload(new Float32Array(n));
      let run: () => void | Promise<void>;
      let out: number;
      let outLen: number;
      switch (op.op) {
        case "matmul": {
          const b = upload(op.b);
          const packed = zeros(k.f32_gemm_packed_size(op.k, op.n));
          k.f32_gemm_pack_b(op.k, op.n, b, op.n, packed);
          const a = upload(op.a);
          outLen = op.m * op.n;
          out = zeros(outLen);
          if (op.m === 1) {
            run = split("f32_gemv", ranges(op.n, threads, k.f32_gemm_nr()).map(([j0, j1]) => [j1 - j0, op.k, a, packed + j0 * op.k * 4, out + j0 * 4, 0, 0]));
          } else {
            run = split("f32_gemm", ranges(op.m, threads, 8).map(([i0, i1]) => [i1 - i0, op.n, op.k, a + i0 * op.k * 4, op.k, packed, out + i0 * op.n * 4, op.n, 0, 0]));
          }
          break;
        }
        case "softmax": {
          const x = upload(op.x);
          outLen = op.rows * op.n;
          out = zeros(outLen);
          run = split("f32_softmax", ranges(op.rows, threads, 1).map(([r0, r1]) => [r1 - r0, op.n, x + r0 * op.n * 4, op.n, out + r0 * op.n * 4, op.n, 1, 0, 0, -1]));
          break;
        }
        case "layernorm": {
          const [x, g, b] = [upload(op.x), upload(op.gamma), upload(op.beta)];
          outLen = op.rows * op.n;
          out = zeros(outLen);
          run = split("f32_layernorm", ranges(op.rows, threads, 1).map(([r0, r1]) => [r1 - r0, op.n, x + r0 * op.n * 4, op.n, g, b, out + r0 * op.n * 4, op.n, op.eps]));
          break;
        }
        case "rmsnorm": {
          const [x, g] = [upload(op.x), upload(op.gamma)];
          outLen = op.rows * op.n;
          out = zeros(outLen);
          run = split("f32_rmsnorm", ranges(op.rows, threads, 1).map(([r0, r1]) => [r1 - r0, op.n, x + r0 * op.n * 4, op.n, g, out + r0 * op.n * 4, op.n, op.eps]));
          break;
        }
        default:
          return null;
      }
      return {
        run,
        output: async () => {
          await run();
          return e.mem.f32.slice(out >> 2, (out >> 2) + outLen);
        },
        dispose: () => {
          for (const p of ptrs) e.regions.scratch.release(p);
        },
      };
    },
    dispose: () => rt.dispose(),
  };
}

function peerImpl(peer: Peer): Impl {
  return {
    name: peer.name,
    threads: 1,
    async prepare(op) {
      const p: PreparedPeerOp | null = await peer.prepare(op);
      return p && { run: () => p.run(), output: () => p.output(), dispose: () => p.dispose() };
    },
    dispose: () => void peer.dispose(),
  };
}

/** Largest |got - want| over the largest |want|; Infinity on a length mismatch or NaN. */
function relError(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) return Infinity;
  let d = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const x = Math.abs(got[i] - want[i]);
    d = Number.isNaN(x) ? Infinity : Math.max(d, x);
    m = Math.max(m, Math.abs(want[i]));
  }
  return d / Math.max(m, 1e-30);
}

/** Timing rounds per case (impl order reversed every other round). */
const ROUNDS = 2;

/** Outputs further than this from simdformer strict/1 thread are reported and not timed. */
const TOLERANCE = 1e-3;

/**
 * Median microseconds per call: a warm-up (wasm tier-up, the peers' first-call work), then
 * samples of enough calls to last ~`sampleMs`, until `budgetMs` is spent (at least 3 samples).
 */
async function timeIt(run: () => void | Promise<unknown>, budgetMs: number, sampleMs: number): Promise<number> {
  let calls = 0;
  const w0 = performance.now();
  do {
    await run();
    calls++;
  } while (performance.now() - w0 < Math.min(40, budgetMs / 4) || calls < 2);
  const perCall = (performance.now() - w0) / calls;
  const batch = Math.max(1, Math.round(sampleMs / Math.max(perCall, 1e-3)));
  const samples: number[] = [];
  const t0 = performance.now();
  while (samples.length < 3 || (performance.now() - t0 < budgetMs && samples.length < 25)) {
    const s0 = performance.now();
    for (let i = 0; i < batch; i++) await run();
    samples.push(((performance.now() - s0) * 1000) / batch);
  }
  samples.sort((a, b) => a - b);
  return samples[samples.length >> 1];
}

interface PeerStatus {
  name: string;
  ok: boolean;
  text: string;
}

/** Makes the runtimes and loads the peers; whatever cannot start is reported in `status`. */
async function startImpls(status: PeerStatus[]): Promise<Impl[]> {
  const impls: Impl[] = [];
  const n = globalThis.crossOriginIsolated ? Math.max(2, Math.min(navigator.hardwareConcurrency || 2, 8)) : 1;
  for (const simd of ["strict", "relaxed"] as const) {
    for (const threads of n > 1 ? [1, n] : [1]) {
      try {
        const rt = await createRuntime({ simd, threads });
        const impl = simdformerImpl(rt, `simdformer/${simd}`);
        impls.push(impl);
        if (threads > 1 && impl.threads < threads) status.push({ name: impl.name, ok: false, text: `asked for ${threads} threads, got ${impl.threads}: ${rt.features.notes.join("; ")}` });
      } catch (e) {
        status.push({ name: `simdformer/${simd} ${threads}t`, ok: false, text: errorText(e) });
      }
    }
  }
  if (n === 1) status.push({ name: "simdformer N threads", ok: false, text: "this page is not cross-origin isolated (no COOP/COEP): no SharedArrayBuffer, so one thread only" });
  const { loadOrt, loadTfjs } = await import("./peers.js");
  for (const [name, load] of [["onnxruntime-web", loadOrt], ["tfjs-wasm", loadTfjs]] as const) {
    try {
      const peer = await load();
      impls.push(peerImpl(peer));
      status.push({ name, ok: true, text: `${peer.version}: ${peer.notes.join("; ")}` });
    } catch (e) {
      status.push({ name, ok: false, text: `could not load: ${errorText(e)}` });
    }
  }
  return impls;
}

/** The rows' document: what ran where, then the rows. */
interface Results {
  machine: Record<string, unknown>;
  peers: PeerStatus[];
  rows: Row[];
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const COLORS: Record<string, string> = { "simdformer/strict": "#0f766e", "simdformer/relaxed": "#14b8a6", "onnxruntime-web": "#6366f1", "tfjs-wasm": "#f59e0b" };

/**
 * Horizontal bars per case: GFLOP/s for GEMM (longer is better), µs per call otherwise
 * (shorter is better); each bar says how it compares with simdformer strict/1 thread.
 */
function drawChart(target: HTMLElement, rows: Row[], labels: string[]): void {
  const W = 960;
  const left = 230;
  const barH = 16;
  const gap = 4;
  const nodes: SVGElement[] = [];
  nodes.push(svg("text", { x: 0, y: 14, "font-size": 12, fill: "#5b6675" }, "×: speed relative to simdformer strict SIMD on 1 thread (above 1 is faster)"));
  let y = 30;
  for (const label of labels) {
    const gemm = rows.some((r) => r.case === label && r.metric === "throughput");
    const metric = gemm ? "throughput" : "median_time";
    const bars = rows.filter((r) => r.case === label && r.metric === metric);
    if (bars.length === 0) continue;
    const base = bars.find((r) => r.impl === "simdformer/strict" && r.threads === 1);
    const max = Math.max(...bars.map((r) => r.value));
    nodes.push(svg("text", { x: 0, y: y + 13, "font-size": 13, "font-weight": 600, fill: "#1c2430" }, `${label} (${gemm ? "GFLOP/s, longer is better" : "µs per call, shorter is better"})`));
    y += 22;
    for (const r of bars) {
      const w = Math.max(2, ((W - left - 250) * r.value) / max);
      const ratio = base ? (gemm ? r.value / base.value : base.value / r.value) : NaN;
      nodes.push(
        svg("text", { x: left - 8, y: y + 12, "font-size": 12, "text-anchor": "end", fill: "#5b6675" }, `${r.impl} · ${r.threads}t`),
        svg("rect", { x: left, y, width: w, height: barH, rx: 3, fill: COLORS[r.impl] ?? "#94a3b8" }),
        svg("text", { x: left + w + 6, y: y + 12, "font-size": 12, fill: "#1c2430" },
          `${fmt(r.value)} ${r.unit}${Number.isFinite(ratio) && r !== base ? `  ×${ratio.toFixed(2)} vs strict 1t` : ""}`),
      );
      y += barH + gap;
    }
    y += 12;
  }
  const root = svg("svg", { viewBox: `0 0 ${W} ${y}`, width: W, height: y, role: "img", "aria-label": "kernel bench results" });
  root.append(...nodes);
  target.replaceChildren(root);
}

export function setupBench(): void {
  const run = byId<HTMLButtonElement>("bench-run");
  const download = byId<HTMLButtonElement>("bench-download");
  const size = byId<HTMLSelectElement>("bench-size");
  const progress = byId<HTMLProgressElement>("bench-progress");
  const status = byId("bench-status");
  const peersList = byId("bench-peers");
  const chart = byId("bench-chart");
  let results: Results | undefined;

  const bench = async () => {
    run.disabled = true;
    download.disabled = true;
    progress.value = 0;
    status.dataset.state = "running";
    status.textContent = "Starting the runtimes and loading the peers…";
    chart.replaceChildren();
    const peerStatus: PeerStatus[] = [];
    const rows: Row[] = [];
    const row = (c: string, impl: Impl, metric: string, value: number, unit: string) =>
      rows.push({ suite: "playground-kernels", case: c, impl: impl.name, threads: impl.threads, metric, value, unit });
    const quick = size.value === "quick";
    const list = cases(quick ? "quick" : "standard");
    const t0 = performance.now();
    let impls: Impl[] = [];
    try {
      impls = await startImpls(peerStatus);
      peersList.replaceChildren(...peerStatus.map((p) => el("li", { class: p.ok ? "ok" : "failed" }, `${p.name} `, el("span", { class: "note" }, p.text))));
      let done = 0;
      for (const c of list) {
        const prepared: Array<{ impl: Impl; p: Prepared }> = [];
        for (const impl of impls) {
          try {
            const p = await impl.prepare(c.op);
            if (p) prepared.push({ impl, p });
          } catch (e) {
            peerStatus.push({ name: impl.name, ok: false, text: `${c.label}: ${errorText(e)}` });
          }
        }
        const reference = await prepared[0].p.output();
        // Checked first: only what computes simdformer's result is timed.
        const valid: typeof prepared = [];
        for (const x of prepared) {
          const err = relError(await x.p.output(), reference);
          row(c.label, x.impl, "max_error_vs_ours", err, "relative");
          if (err <= TOLERANCE) valid.push(x);
          else peerStatus.push({ name: x.impl.name, ok: false, text: `${c.label}: output off by ${err.toExponential(2)} (relative), not timed` });
        }
        // Two rounds in opposite orders, each impl's best kept: a burst of load from
        // elsewhere on the machine during one impl's turn does not decide a ratio.
        const best = new Map<Impl, number>();
        for (let round = 0; round < ROUNDS; round++) {
          for (const { impl, p } of round % 2 ? [...valid].reverse() : valid) {
            status.textContent = `${c.label}: ${impl.name}, ${impl.threads} thread${impl.threads > 1 ? "s" : ""} (round ${round + 1} of ${ROUNDS})`;
            await nextFrame();
            const us = await timeIt(p.run, (quick ? 60 : 400) / ROUNDS, quick ? 4 : 10);
            best.set(impl, Math.min(us, best.get(impl) ?? Infinity));
            progress.value = Math.min(1, ++done / (list.length * impls.length * ROUNDS));
          }
        }
        for (const [impl, us] of best) {
          row(c.label, impl, "median_time", us, "us");
          if (c.flops) row(c.label, impl, "throughput", c.flops / us / 1e3, "GFLOP/s");
        }
        for (const { p } of prepared) p.dispose();
        drawChart(chart, rows, list.map((x) => x.label));
      }
      results = {
        machine: {
          userAgent: navigator.userAgent,
          hardwareConcurrency: navigator.hardwareConcurrency,
          crossOriginIsolated: globalThis.crossOriginIsolated === true,
          date: new Date().toISOString(),
          shapes: quick ? "quick" : "standard",
          seconds: Math.round((performance.now() - t0) / 100) / 10,
        },
        peers: peerStatus,
        rows,
      };
      progress.value = 1;
      status.textContent = `Done in ${fmt((performance.now() - t0) / 1000)} s: ${rows.length} rows. Ratios are against simdformer strict SIMD on 1 thread.`;
      status.dataset.state = "done";
      download.disabled = false;
    } catch (e) {
      status.textContent = `The bench stopped: ${errorText(e)}`;
      status.dataset.state = "error";
    } finally {
      for (const impl of impls) impl.dispose();
      peersList.replaceChildren(...peerStatus.map((p) => el("li", { class: p.ok ? "ok" : "failed" }, `${p.name} `, el("span", { class: "note" }, p.text))));
      run.disabled = false;
    }
  };

  run.addEventListener("click", () => void bench());
  download.addEventListener("click", () => {
    if (!results) return;
    const a = el("a", { href: URL.createObjectURL(new Blob([JSON.stringify(results, null, 2)], { type: "application/json" })), download: "simdformer-playground-bench.json" });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
  run.disabled = false;
}
