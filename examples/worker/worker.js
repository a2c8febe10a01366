// simdformer in workerd (the Cloudflare Workers runtime). Code generation is off in isolates,
// so the wasm comes as module bindings (declared `wasm` in config.capnp, compiled by workerd
// at startup) and is handed to createRuntime; isolates have no workers: one thread.
//   GET /        features and a dot product
//   POST /translate  {"text": "i like deep learning"} -> {"text": "我喜欢深度学习", "ids": [...]}
//                with the package's default translator (loaded once per isolate)
//   POST /embed  {"texts": ["a cat", ...]} -> {"dims": 32, "embeddings": [[...], ...]} with a small
//                sentence encoder made by tools/encoder_fixtures.py (mean pooling, normalized)
//   POST /gguf   {"file": "edge.gguf", "ids": [1, 523], "maxNewTokens": 6} -> {"ids": [...], "weightsBytes": n,
//                "memoryBytes": n}: a GGUF from ASSETS streamed (never held whole) into its own runtime
//                of a 128 MiB memory, then greedy ids after the prompt ids (no tokenizer needed)
//   GET /golden  the runtime matrix's golden cases (tests/runtimes/golden.js)
// Model files come from the ASSETS service binding (out/assets/, see config.capnp).
import { createRuntime } from "simdformer";
import relaxedWasm from "./simdformer.relaxed.wasm";
import simdWasm from "./simdformer.simd.wasm";
import fixture from "../../tests/fixtures/runtimes/golden.json";
import { runGolden } from "../../tests/runtimes/golden.js";

/** The module binding for a golden config: strict SIMD where asked, else the best (relaxed). */
const wasmFor = (label) => ({ module: label.startsWith("strict") ? simdWasm : relaxedWasm });

const json = (body, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

async function demo() {
  const rt = await createRuntime({ wasm: { module: relaxedWasm }, maxMemory: 64 * 1024 * 1024 });
  try {
    const n = 1000;
    const a = rt.engine.scratch.alloc(n * 4);
    const b = rt.engine.scratch.alloc(n * 4);
    const f32 = rt.engine.mem.f32;
    for (let i = 0; i < n; i++) {
      f32[(a >>> 2) + i] = 1 / (i + 1);
      f32[(b >>> 2) + i] = i + 1;
    }
    return { features: rt.features, dot: rt.kernels.f32_dot(n, a, b), expected: n };
  } finally {
    rt.dispose();
  }
}

/** A model file from the ASSETS binding. */
async function assetOf(env, name) {
  const res = await env.ASSETS.fetch(`http://assets/${encodeURIComponent(name)}`);
  if (!res.ok) throw new Error(`assets/${name}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The translator, made on first use and kept for the isolate's life (a failure is retried). */
let translator;
function getTranslator(env) {
  translator ??= (async () => {
    const rt = await createRuntime({ wasm: { module: relaxedWasm }, maxMemory: 128 * 1024 * 1024 });
    return rt.loadModel(await assetOf(env, "translator.safetensors"), { file: "translator.safetensors" });
  })().catch((e) => {
    translator = undefined;
    throw e;
  });
  return translator;
}

/** The sentence encoder of POST /embed, loaded once per isolate from its flattened folder. */
const EMBEDDER_FILES = ["config.json", "model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json"];
let embedder;
function getEmbedder(env) {
  embedder ??= (async () => {
    const rt = await createRuntime({ wasm: { module: relaxedWasm }, maxMemory: 128 * 1024 * 1024 });
    const files = {};
    for (const f of EMBEDDER_FILES) files[f] = await assetOf(env, `embedder.${f.replaceAll("/", ".")}`);
    return rt.loadEncoder({ files }, { file: "embedder" });
  })().catch((e) => {
    embedder = undefined;
    throw e;
  });
  return embedder;
}

async function embed(request, env) {
  let body;
  try {
    body = await request.json();
  } catch {
    return json({ error: 'expected a JSON body {"texts": ["..."]}, found invalid JSON' }, 400);
  }
  const texts = body?.texts;
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === "string")) {
    return json({ error: `expected {"texts": string[]}, found texts: ${Array.isArray(texts) ? "an array with a non-string" : typeof texts}` }, 400);
  }
  const enc = await getEmbedder(env);
  const { dims, vectors, tokens } = await enc.embed(texts);
  return json({ dims, tokens, embeddings: vectors.map((v) => Array.from(v)) });
}

async function translate(request, env) {
  let body;
  try {
    body = await request.json();
  } catch {
    return json({ error: 'expected a JSON body {"text": "..."}, found invalid JSON' }, 400);
  }
  if (typeof body?.text !== "string") return json({ error: `expected {"text": string}, found text: ${typeof body?.text}` }, 400);
  const tm = await getTranslator(env);
  const t = await tm.translate(body.text);
  return json({ text: t.text, ids: t.ids, unknownWords: t.unknownWords });
}

async function gguf(request, env) {
  let body;
  try {
    body = await request.json();
  } catch {
    return json({ error: 'expected a JSON body {"file": "...", "ids": [...]}, found invalid JSON' }, 400);
  }
  const { file, ids, maxNewTokens = 6 } = body ?? {};
  if (typeof file !== "string" || !Array.isArray(ids) || !ids.every(Number.isInteger) || !Number.isInteger(maxNewTokens)) {
    return json({ error: 'expected {"file": string, "ids": integer[], "maxNewTokens"?: integer}' }, 400);
  }
  const res = await env.ASSETS.fetch(`http://assets/${encodeURIComponent(file)}`);
  if (!res.ok) return json({ error: `assets/${file}: HTTP ${res.status}` }, 404);
  const rt = await createRuntime({ wasm: { module: relaxedWasm }, maxMemory: 128 * 1024 * 1024 });
  try {
    // The prompt comes as ids: a tokenizer that hands them over and prints ids back.
    const tokenizer = { encode: () => ({ ids, tokens: [], unknown: [] }), decode: (v) => Array.from(v).join(" ") };
    const tm = await rt.loadModel(res, { tokenizer, file });
    const out = [];
    for await (const piece of tm.generate("ids", { maxNewTokens, temperature: 0 })) out.push(piece.id);
    return json({ ids: out, weightsBytes: rt.engine.regions.weights.usedBytes, memoryBytes: rt.engine.mem.byteLength });
  } finally {
    rt.dispose();
  }
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    try {
      if (request.method === "GET" && pathname === "/") return json(await demo());
      if (request.method === "POST" && pathname === "/translate") return await translate(request, env);
      if (request.method === "POST" && pathname === "/embed") return await embed(request, env);
      if (request.method === "POST" && pathname === "/gguf") return await gguf(request, env);
      if (request.method === "GET" && pathname === "/golden") {
        return json(await runGolden(fixture, { wasm: wasmFor, asset: (name) => assetOf(env, name), embeddedModel: false }));
      }
      return json({ error: `no route ${request.method} ${pathname}` }, 404);
    } catch (e) {
      return json({ error: `${e?.name}: ${e?.message}` }, 500);
    }
  },
};
