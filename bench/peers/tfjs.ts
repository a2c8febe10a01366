// tfjs-backend-wasm peer (XNNPACK inside), one thread, SIMD build, wasm read from node_modules.
// The wasm backend runs kernels eagerly and synchronously, so a timed call is the op plus
// disposing its result tensor; nothing is read back (the ops: tfjs_ops.ts).
import { pathToFileURL } from "node:url";
import * as tfCore from "@tensorflow/tfjs-core";
import * as tfWasm from "@tensorflow/tfjs-backend-wasm";
import { packageInfo } from "./pkg.js";
import { tfjsPeer } from "./tfjs_ops.js";
import type { Peer } from "./types.js";

// Both packages are CommonJS; under Node's ESM loader their exports may sit on `default`.
type TfCore = typeof tfCore;
type TfWasm = typeof tfWasm;
const tf: TfCore = ((tfCore as unknown as { default?: TfCore }).default ?? tfCore) as TfCore;
const wasmBackend: TfWasm = ((tfWasm as unknown as { default?: TfWasm }).default ?? tfWasm) as TfWasm;

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
  return tfjsPeer(tf, version, [`backend=${tf.getBackend()}, threads=${threads}, simd=${String(simd)}, wasm from ${pathToFileURL(`${dir}/dist/`).href}`]);
}
