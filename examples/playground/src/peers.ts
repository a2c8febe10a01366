// The peer libraries in the page, loaded only when the kernel bench runs, from the files the
// server mounts out of node_modules: onnxruntime-web's own ESM loader and wasm (no bundler
// rewrite of its wasm lookup), and tfjs-core + tfjs-backend-wasm bundled into a lazy chunk.
// The ops themselves are the Node bench's (bench/peers/*_ops.ts): same graphs, same calls.
import type * as Ort from "onnxruntime-web";
import { ortPeer } from "../../../bench/peers/ort_ops.js";
import { tfjsPeer } from "../../../bench/peers/tfjs_ops.js";
import type { Peer } from "../../../bench/peers/types.js";

export type { Peer, PeerOp, PreparedPeerOp } from "../../../bench/peers/types.js";

const ORT_DIR = "/vendor/onnxruntime-web/";
const TFJS_WASM_DIR = "/vendor/tfjs-backend-wasm/";

/**
 * onnxruntime-web, wasm EP, one thread. Its "wasm" variant (ort.wasm.min.mjs) imports its
 * emscripten loader from wasmPaths at run time: a same-origin module, which the strict CSP
 * allows (the bundled variants would start their worker from their own URL, which also works,
 * but this one keeps the loader and wasm next to each other as the package ships them).
 */
export async function loadOrt(): Promise<Peer> {
  const url = `${ORT_DIR}ort.wasm.min.mjs`;
  const ort = (await import(/* @vite-ignore */ url)) as typeof Ort;
  ort.env.wasm.wasmPaths = ORT_DIR;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  return ortPeer(ort, ort.env.versions.web ?? "?", [`wasm EP (ort.wasm.min.mjs), numThreads=1, wasm from ${ORT_DIR}`]);
}

/**
 * tfjs-core with the wasm backend (XNNPACK), one thread: its threaded build starts its workers
 * from a blob: URL, which the strict CSP forbids (worker-src falls back to 'self'), so the
 * multithread flag is turned off before the backend starts.
 */
export async function loadTfjs(): Promise<Peer> {
  const [tf, wasm] = await Promise.all([import("@tensorflow/tfjs-core"), import("@tensorflow/tfjs-backend-wasm")]);
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
  wasm.setWasmPaths(TFJS_WASM_DIR);
  if (!(await tf.setBackend("wasm"))) throw new Error("tfjs: the wasm backend failed to initialize");
  await tf.ready();
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  return tfjsPeer(tf, wasm.version_wasm, [
    `backend=${tf.getBackend()}, threads=${wasm.getThreadsCount()}, simd=${String(simd)}, wasm from ${TFJS_WASM_DIR}`,
    "one thread: tfjs-backend-wasm's threaded build starts workers from blob: URLs, which this page's CSP forbids",
  ]);
}
