// llama.cpp's answers for the GGUF fixtures of tools/gguf_models.py, through node-llama-cpp (its
// prebuilt CPU build): for every tests/fixtures/gguf/<name>.gguf listed in models.json, the greedy ids
// of STEPS steps after the model's prompt, the log-probabilities of the first step (node-llama-cpp
// hands out softmax probabilities, not logits; log p = logit - logsumexp, so they compare as logits
// up to a constant), and each step's gap between the two best log-probabilities (how near a tie the
// greedy choice was), and llama.cpp's token ids of a few texts (its tokenizer on the file's
// vocabulary, no BOS). Written to tests/fixtures/gguf/llamacpp.json (models named with
// --models a,b are redone, the others kept); files llama.cpp refuses are recorded with its error.
// Settings: no GPU, one thread, greedy (no penalties), float32 KV cache, no flash attention, so the
// reference carries only the error of the weights' own type and of llama.cpp's activation rounding.
// Usage: node tools/llamacpp_reference.mjs [--models qwen3,gemma]
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const STEPS = 40;
const TEXTS = ["the cat sat on the mat", "The dog, 2 cats and 345 logs!", "  spaces\tand\nlines  ", "héllo wörld 你好"];
const dir = new URL("../tests/fixtures/gguf/", import.meta.url);
const models = JSON.parse(readFileSync(new URL("models.json", dir), "utf8"));
const errors = [];
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, logger: (_, text) => errors.push(text) });
const pkg = JSON.parse(readFileSync(new URL("../node_modules/node-llama-cpp/package.json", import.meta.url), "utf8"));
const release = JSON.parse(readFileSync(new URL("../node_modules/node-llama-cpp/llama/llama.cpp.info.json", import.meta.url), "utf8"));

const at = process.argv.indexOf("--models");
const only = at > 0 ? new Set(process.argv[at + 1].split(",")) : undefined;
const previous = existsSync(new URL("llamacpp.json", dir)) ? JSON.parse(readFileSync(new URL("llamacpp.json", dir), "utf8")).models : {};
const out = {
  source: `node-llama-cpp ${pkg.version} (llama.cpp ${release.tag}, prebuilt ${llama.buildType}, gpu ${llama.gpu})`,
  settings: { threads: 1, sampling: "greedy", kvCache: "F32", flashAttention: false, steps: STEPS },
  models: {},
};
for (const [name, info] of Object.entries(models)) {
  if (only && !only.has(info.model ?? info.arch) && previous[name]) {
    out.models[name] = previous[name];
    continue;
  }
  errors.length = 0;
  let model;
  try {
    model = await llama.loadModel({ modelPath: new URL(`${name}.gguf`, dir).pathname, gpuLayers: 0 });
  } catch (e) {
    out.models[name] = { error: [String(e.message), ...errors.map((s) => s.trim())].join(" | ") };
    console.log(`${name}: llama.cpp refuses it: ${out.models[name].error}`);
    continue;
  }
  const ctx = await model.createContext({
    contextSize: 256, batchSize: 64, threads: 1, flashAttention: false,
    experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
  });
  const seq = ctx.getSequence();
  const ids = [], gaps = [];
  let logprobs;
  for await (const step of seq.evaluateWithMetadata(info.prompt, { probabilities: true }, { temperature: 0, yieldEogToken: true })) {
    const p = step.probabilities;
    const [a, b] = [...p.values()];
    gaps.push(Math.log(a) - Math.log(b));
    logprobs ??= Array.from({ length: p.size }, (_, t) => Number(Math.log(p.get(t)).toPrecision(7)));
    ids.push(step.token);
    if (ids.length === STEPS) break;
  }
  const tokens = TEXTS.map((text) => ({ text, ids: [...model.tokenize(text)] }));
  out.models[name] = { prompt: info.prompt, ids, logprobs, gaps: gaps.map((g) => Number(g.toPrecision(4))), tokens };
  console.log(`${name}: ${ids.slice(0, 12).join(" ")} ... smallest top-2 gap ${Math.min(...gaps).toFixed(3)}`);
  await ctx.dispose();
  await model.dispose();
}
writeFileSync(new URL("llamacpp.json", dir), JSON.stringify(out) + "\n");
await llama.dispose();
