// tfjs-backend-wasm peer (XNNPACK inside), one thread, SIMD build, wasm read from node_modules.
// The wasm backend runs kernels eagerly and synchronously, so a timed call is the op plus
// disposing its result tensor; nothing is read back. LayerNorm and RMSNorm have no fused
// tfjs op: they are written the way tfjs models write them (moments / mean of squares).
import { pathToFileURL } from "node:url";
import * as tfCore from "@tensorflow/tfjs-core";
import * as tfWasm from "@tensorflow/tfjs-backend-wasm";
import { packageInfo } from "./pkg.js";
import type { Peer, PeerOp, PreparedPeerOp } from "./types.js";

// Both packages are CommonJS; under Node's ESM loader their exports may sit on `default`.
type TfCore = typeof tfCore;
type TfWasm = typeof tfWasm;
const tf: TfCore = ((tfCore as unknown as { default?: TfCore }).default ?? tfCore) as TfCore;
const wasmBackend: TfWasm = ((tfWasm as unknown as { default?: TfWasm }).default ?? tfWasm) as TfWasm;

const CALL_NOTE = "op call + dispose of the result tensor (kernels run synchronously; nothing read back)";

/** Creates the op's graph of tfjs calls; every tensor but the result is made here, once. */
function build(op: PeerOp): { fn: () => tfCore.Tensor; keep: tfCore.Tensor[] } {
  switch (op.op) {
    case "matmul": {
      const a = tf.tensor2d(op.a, [op.m, op.k]);
      const b = tf.tensor2d(op.b, [op.k, op.n]);
      return { fn: () => tf.matMul(a, b), keep: [a, b] };
    }
    case "dot": {
      const a = tf.tensor1d(op.a);
      const b = tf.tensor1d(op.b);
      return { fn: () => tf.dot(a, b), keep: [a, b] };
    }
    case "add": {
      const a = tf.tensor1d(op.a);
      const b = tf.tensor1d(op.b);
      return { fn: () => tf.add(a, b), keep: [a, b] };
    }
    case "softmax": {
      const x = tf.tensor2d(op.x, [op.rows, op.n]);
      return { fn: () => tf.softmax(x), keep: [x] };
    }
    case "layernorm": {
      const x = tf.tensor2d(op.x, [op.rows, op.n]);
      const g = tf.tensor1d(op.gamma);
      const b = tf.tensor1d(op.beta);
      const eps = tf.scalar(op.eps);
      const fn = () =>
        tf.tidy(() => {
          const { mean, variance } = tf.moments(x, -1, true);
          return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), g), b);
        });
      return { fn, keep: [x, g, b, eps] };
    }
    case "rmsnorm": {
      const x = tf.tensor2d(op.x, [op.rows, op.n]);
      const g = tf.tensor1d(op.gamma);
      const eps = tf.scalar(op.eps);
      const fn = () => tf.tidy(() => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), g));
      return { fn, keep: [x, g, eps] };
    }
  }
}

/** Loads tfjs-core with the wasm backend from node_modules, one thread. */
export async function createTfjsPeer(): Promise<Peer> {
  const { dir, version } = packageInfo("@tensorflow/tfjs-backend-wasm");
  wasmBackend.setThreadsCount(1);
  // A folder prefix: the backend picks tfjs-backend-wasm-simd.wasm from it when SIMD validates.
  wasmBackend.setWasmPaths(`${dir}/dist/`);
  if (!(await tf.setBackend("wasm"))) throw new Error("tfjs: the wasm backend failed to initialize");
  await tf.ready();
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threads = wasmBackend.getThreadsCount();
  const notes = [`backend=${tf.getBackend()}, threads=${threads}, simd=${String(simd)}, wasm from ${pathToFileURL(`${dir}/dist/`).href}`, CALL_NOTE];
  const kept: tfCore.Tensor[] = [];
  return {
    name: "tfjs-wasm",
    version,
    notes,
    async prepare(op): Promise<PreparedPeerOp> {
      const { fn, keep } = build(op);
      kept.push(...keep);
      return {
        async: false,
        note: CALL_NOTE,
        run: () => fn().dispose(),
        async output() {
          const y = fn();
          const data = Float32Array.from(await y.data<"float32">());
          y.dispose();
          return data;
        },
        dispose() {
          for (const t of keep) t.dispose();
        },
      };
    },
    dispose() {
      for (const t of kept) if (!t.isDisposed) t.dispose();
    },
  };
}
