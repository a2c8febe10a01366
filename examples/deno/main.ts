// simdformer in Deno: the npm package, resolved from node_modules (deno.json), no network.
import { createRuntime } from "npm:simdformer";

const rt = await createRuntime({ threads: "auto" });
const { build, threads, notes } = rt.features;
console.log(`simdformer on Deno ${Deno.version.deno}: build ${build}, ${threads} thread(s)${notes.length ? ` (${notes.join("; ")})` : ""}`);

// Kernels take byte offsets into the runtime's wasm memory: stage two vectors, take their dot product.
const n = 1000;
const a = rt.engine.scratch.alloc(n * 4);
const b = rt.engine.scratch.alloc(n * 4);
const f32 = rt.engine.mem.f32;
for (let i = 0; i < n; i++) {
  f32[(a >>> 2) + i] = 1 / (i + 1);
  f32[(b >>> 2) + i] = i + 1;
}
const dot = rt.kernels.f32_dot(n, a, b); // sum of (1/(i+1))*(i+1) = n
console.log(`dot = ${dot} (expected ${n})`);
if (Math.abs(dot - n) > 1e-3) Deno.exit(1);

// The package's embedded default model: an English -> Chinese translator.
const tm = await rt.loadModel();
const sentence = "I like deep learning";
console.log(`${sentence} -> ${(await tm.translate(sentence)).text}`);
tm.dispose();
rt.dispose();
