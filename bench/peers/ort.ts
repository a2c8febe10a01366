// onnxruntime-web peer: wasm execution provider, SIMD, one thread. Each op is a one-node
// ONNX model built in memory (ort_ops.ts, onnx_model.ts).
import { pathToFileURL } from "node:url";
import * as ort from "onnxruntime-web";
import { ortPeer } from "./ort_ops.js";
import { packageInfo } from "./pkg.js";
import type { Peer } from "./types.js";

/** Loads onnxruntime-web from node_modules (no network) with one thread and SIMD on. */
export async function createOrtPeer(): Promise<Peer> {
  const { dir, version } = packageInfo("onnxruntime-web");
  // The .mjs/.wasm pair is imported from this folder instead of a CDN.
  ort.env.wasm.wasmPaths = pathToFileURL(`${dir}/dist/`).href;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  return ortPeer(ort, version, [`wasm EP, numThreads=1, simd=true, wasm from ${dir}/dist/`]);
}
