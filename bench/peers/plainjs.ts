// Plain-JS peer: straightforward, cache-friendly scalar loops over Float32Array, the
// baseline a user would write without wasm. Output arrays are allocated once.
import type { Peer, PeerOp, PreparedPeerOp } from "./types.js";

/** C = A . B with the i-k-j order, so the inner loop streams rows of B and C. */
function matmul(m: number, k: number, n: number, a: Float32Array, b: Float32Array, c: Float32Array): void {
  c.fill(0);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p];
      const bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += av * b[bp + j];
    }
  }
}

function softmax(rows: number, n: number, x: Float32Array, y: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let mx = -Infinity;
    for (let j = 0; j < n; j++) mx = Math.max(mx, x[o + j]);
    let s = 0;
    for (let j = 0; j < n; j++) s += y[o + j] = Math.exp(x[o + j] - mx);
    const inv = 1 / s;
    for (let j = 0; j < n; j++) y[o + j] *= inv;
  }
}

function layernorm(rows: number, n: number, x: Float32Array, g: Float32Array, b: Float32Array, eps: number, y: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += x[o + j];
    const mean = s / n;
    let v = 0;
    for (let j = 0; j < n; j++) v += (x[o + j] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / n + eps);
    for (let j = 0; j < n; j++) y[o + j] = (x[o + j] - mean) * inv * g[j] + b[j];
  }
}

function rmsnorm(rows: number, n: number, x: Float32Array, g: Float32Array, eps: number, y: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += x[o + j] * x[o + j];
    const inv = 1 / Math.sqrt(s / n + eps);
    for (let j = 0; j < n; j++) y[o + j] = x[o + j] * inv * g[j];
  }
}

function bind(op: PeerOp): { run: () => void; out: Float32Array } {
  switch (op.op) {
    case "matmul": {
      const out = new Float32Array(op.m * op.n);
      return { out, run: () => matmul(op.m, op.k, op.n, op.a, op.b, out) };
    }
    case "softmax": {
      const out = new Float32Array(op.rows * op.n);
      return { out, run: () => softmax(op.rows, op.n, op.x, out) };
    }
    case "layernorm": {
      const out = new Float32Array(op.rows * op.n);
      return { out, run: () => layernorm(op.rows, op.n, op.x, op.gamma, op.beta, op.eps, out) };
    }
    case "rmsnorm": {
      const out = new Float32Array(op.rows * op.n);
      return { out, run: () => rmsnorm(op.rows, op.n, op.x, op.gamma, op.eps, out) };
    }
    case "add": {
      const out = new Float32Array(op.n);
      const { a, b, n } = op;
      return {
        out,
        run: () => {
          for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
        },
      };
    }
    case "dot": {
      const out = new Float32Array(1);
      const { a, b, n } = op;
      return {
        out,
        run: () => {
          let s = 0;
          for (let i = 0; i < n; i++) s += a[i] * b[i];
          out[0] = s;
        },
      };
    }
  }
}

/**
 * Matmuls above this many flops (the prefill shapes) take a second or more per call in plain
 * JS: they are skipped to keep a run within its time budget (the wasm peers are 30-50x faster
 * there and set the "best peer"). GEMVs up to 4096 x 4096 stay in.
 */
const MAX_MATMUL_FLOPS = 1e8;

/** The plain-JS baseline peer. */
export function createPlainJsPeer(): Peer {
  return {
    name: "plain-js",
    version: process.version,
    notes: ["scalar Float32Array loops (i-k-j matmul), output preallocated", `matmuls over ${MAX_MATMUL_FLOPS.toExponential(0)} flops skipped (seconds per call)`],
    async prepare(op): Promise<PreparedPeerOp | null> {
      if (op.op === "matmul" && 2 * op.m * op.k * op.n > MAX_MATMUL_FLOPS) return null;
      const { run, out } = bind(op);
      return {
        async: false,
        run,
        async output() {
          run();
          return out.slice();
        },
        dispose() {},
      };
    },
    dispose() {},
  };
}
