// The tfjs peer on an initialized tfjs-core namespace (any backend; the bench sets "wasm"):
// each op is built once from tfjs calls, and a timed call is the op plus disposing its result
// tensor. LayerNorm and RMSNorm have no fused tfjs op: they are written the way tfjs models
// write them (moments / mean of squares). No host APIs: the Node bench (tfjs.ts) and the
// browser playground (examples/playground) share it.
import type * as TfCore from "@tensorflow/tfjs-core";
import type { Peer, PeerOp, PreparedPeerOp } from "./types.js";

const CALL_NOTE = "op call + dispose of the result tensor (kernels run synchronously; nothing read back)";

/** Creates the op's graph of tfjs calls; every tensor but the result is made here, once. */
function build(tf: typeof TfCore, op: PeerOp): { fn: () => TfCore.Tensor; keep: TfCore.Tensor[] } {
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

/** The peer on `tf` (backend ready); `notes` say how it was set up. */
export function tfjsPeer(tf: typeof TfCore, version: string, notes: string[]): Peer {
  notes.push(CALL_NOTE);
  const kept: TfCore.Tensor[] = [];
  return {
    name: "tfjs-wasm",
    version,
    notes,
    async prepare(op): Promise<PreparedPeerOp> {
      const { fn, keep } = build(tf, op);
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
