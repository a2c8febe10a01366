// Cold start of one library to its first sentence embedding, in a fresh Node process (spawned by
// bench/embed.bench.ts; plain JS so the library is imported as shipped):
//   node bench/embed_cold.mjs <ours|ort> <request JSON {folder, onnx, ours (dist/index.js), ortDist}>
// Prints one JSON line of milliseconds from just before the import: importMs, loadMs (runtime + model), firstMs
// (the first embedding of one short text done).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const t0 = performance.now();
const [lib, requestJson] = process.argv.slice(2);
const req = JSON.parse(requestJson);

if (lib === "ours") {
  const sf = await import(pathToFileURL(req.ours).href);
  const tImport = performance.now();
  const rt = await sf.createRuntime({ threads: 1 });
  const enc = await rt.loadEncoder(req.folder);
  const tLoad = performance.now();
  const { vectors } = await enc.embed("the cat sat on the mat");
  const tFirst = performance.now();
  if (!vectors[0].every(Number.isFinite)) throw new Error("not finite");
  console.log(JSON.stringify({ importMs: tImport - t0, loadMs: tLoad - t0, firstMs: tFirst - t0 }));
  rt.dispose();
} else {
  const ort = await import(pathToFileURL(`${req.ortDist}/ort.wasm.min.mjs`).href);
  const tImport = performance.now();
  ort.env.wasm.wasmPaths = pathToFileURL(`${req.ortDist}/`).href;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = "error";
  const session = await ort.InferenceSession.create(readFileSync(req.onnx), { executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const tLoad = performance.now();
  // The same text's ids as our WordPiece makes them: [CLS] the cat sat on the mat [SEP].
  const ids = [2, 4, 5, 6, 7, 4, 8, 3];
  const T = ids.length;
  const r = await session.run({
    input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, T]),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(T).fill(1n), [1, T]),
  });
  const h = r.last_hidden_state.data;
  const d = h.length / T;
  const v = new Float32Array(d);
  for (let t = 0; t < T; t++) for (let j = 0; j < d; j++) v[j] += h[t * d + j] / T;
  const tFirst = performance.now();
  console.log(JSON.stringify({ importMs: tImport - t0, loadMs: tLoad - t0, firstMs: tFirst - t0 }));
}
