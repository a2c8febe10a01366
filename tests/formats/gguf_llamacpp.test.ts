// Our GGUF loader against llama.cpp itself on the same files: random-weight models of each
// architecture (tools/gguf_models.py) in each file type, and llama.cpp's greedy ids, first-step
// log-probabilities and tokenizations stored by tools/llamacpp_reference.mjs (node-llama-cpp 3.21.1,
// CPU, one thread, F32 KV cache).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnsupportedFeatureError } from "../../src/errors.js";
import { openModel } from "../../src/formats/detect.js";
import { parseGguf } from "../../src/formats/gguf.js";
import { openGguf } from "../../src/formats/gguf_model.js";
import { writeSafetensors } from "../../src/formats/safetensors.js";
import { llamaTensors, type OpenedModel } from "../../src/formats/source.js";
import { weightBytes } from "../../src/model/budget.js";
import type { ModelConfig } from "../../src/config/config.js";
import { greedy } from "../../src/generate/greedy.js";
import { createRuntime, type Runtime } from "../../src/index.js";
import { Model } from "../../src/model/model.js";

const DIR = new URL("../fixtures/gguf/", import.meta.url);
type Info = { arch: string; model: string; type: string; prompt: number[] };
const models = JSON.parse(readFileSync(new URL("models.json", DIR), "utf8")) as Record<string, Info>;
type Answer = { ids: number[]; logprobs: number[]; gaps: number[]; tokens: Array<{ text: string; ids: number[] }> };
const reference = JSON.parse(readFileSync(new URL("llamacpp.json", DIR), "utf8")) as { models: Record<string, Answer | { error: string }> };

/**
 * Largest |our log p - llama.cpp's| over the tokens llama.cpp gives log p > -10, per file type,
 * at the first step and at every step of llama.cpp's greedy path. Measured (tests print it): F32
 * <= 1.8e-5 (GELU as ggml's f16 table, config gelu_f16); F16 <= 2.2e-2 (llama.cpp rounds
 * activations to f16 before F16 matmuls, we do not); Q8_0 / Q4_0 / k-quants <= 4.3e-6: the
 * activations are quantized as llama.cpp's CPU backend does (q8_0 records with an f16 scale for
 * Q8_0 / Q4_0, Q8_K for the k-quants), so the integer sums are the same and only the f32
 * accumulation order differs. Limits: the measured worst with headroom.
 */
const LOGPROB_TOL: Record<string, number> = {
  F32: 1e-4, F16: 4e-2, Q8_0: 1e-4, Q4_0: 1e-4, Q4_K_M: 1e-4, Q5_K_M: 1e-4, Q6_K: 1e-4,
};
/**
 * Files whose greedy path is not llama.cpp's token for token, with their log p tolerance; every
 * other file's path is llama.cpp's.
 * qwen3_q8_0: first-step log p off by up to 0.16 (median 0.028 over the tokens above -10); free-running
 * ids part at step 17. Found by looking for activations on a rounding boundary: in layer 0's
 * ffn_down input (silu(gate) * up) at the last prompt position one value gives x * 127 / amax =
 * -34.5 exactly, which we round (to even, as llama.cpp's x86 quantize_row_q8_0) to -34; forcing that
 * one quant to -35 brings the first-step log p to 1.6e-6 of llama.cpp's, so llama.cpp's value sits an
 * ulp past the tie (its SiLU is not ours) and rounds to -35. A near-tie of one activation, not a
 * difference of rule (rounding ties away from zero everywhere leaves the 0.16). It keeps the former
 * Q8_0 tolerance.
 */
const NOT_EXACT: Record<string, number> = { qwen3_q8_0: 0.4 };
/**
 * Files whose greedy path is llama.cpp's but whose first-step log p is not, with its tolerance.
 * llama_q5_k_m: off by 0.10 (every other k-quant file within 3e-6) since the k-quant kernels take one
 * f32 step per super-block of an exact integer sum (ggml's AVX2 dot converts 8 lane partials): an
 * ulp-level change, and this file has an activation near a Q8_K rounding boundary that it moves
 * across (the same file moved when this order was first tried; the activation was not pinned down as
 * qwen3_q8_0's was). Its 40 greedy ids and llama.cpp's choice at every step stay ours.
 */
const FIRST_STEP_LOOSE: Record<string, number> = { llama_q5_k_m: 0.2 };

function logSoftmax(x: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let sum = 0;
  for (const v of x) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(x, (v) => v - lse);
}

function fixture(name: string): OpenedModel {
  return openGguf(new Uint8Array(readFileSync(new URL(`${name}.gguf`, DIR))), `${name}.gguf`);
}

function answer(name: string): Answer {
  const want = reference.models[name];
  if (!want) throw new Error(`${name} has no llama.cpp reference (run tools/llamacpp_reference.mjs)`);
  if ("error" in want) throw new Error(`llama.cpp refused ${name}: ${want.error}`);
  return want;
}

describe("GGUF models against llama.cpp", () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ threads: 1 });
  });
  afterAll(() => rt.dispose());

  it.for(Object.entries(models))("%s: greedy path and log-probabilities as llama.cpp's", async ([name, info], ctx) => {
    const want = answer(name);
    let opened: OpenedModel;
    try {
      opened = fixture(name);
    } catch (e) {
      // k-quant types the loader does not take yet (their kernels land separately): skipped, not passed.
      if (e instanceof UnsupportedFeatureError) return ctx.skip(e.message);
      throw e;
    }
    const model = Model.fromTensors(rt, opened.config, opened.tensors);
    try {
      const V = opened.config.vocab_size;
      // Teacher forcing: our log p after the prompt and after each of llama.cpp's tokens.
      const { logits } = await model.forward({ tokens: [[...info.prompt, ...want.ids.slice(0, -1)]] });
      const rows = logits![0];
      const first = info.prompt.length - 1;
      let firstErr = 0;
      let worstMiss = 0;
      for (let step = 0; step < want.ids.length; step++) {
        const ours = logSoftmax(rows.subarray((first + step) * V, (first + step + 1) * V));
        if (step === 0) want.logprobs.forEach((lp, t) => lp > -10 && (firstErr = Math.max(firstErr, Math.abs(ours[t] - lp))));
        // llama.cpp's choice is our best token, or within the tolerance of it (a near-tie of the two).
        let best = 0;
        for (let t = 1; t < V; t++) if (ours[t] > ours[best]) best = t;
        worstMiss = Math.max(worstMiss, ours[best] - ours[want.ids[step]]);
      }
      const ids = (await greedy(model, { prompts: [info.prompt], maxNewTokens: want.ids.length, eosId: -1 }))[0];
      const same = ids.findIndex((t, i) => t !== want.ids[i]);
      console.log(`${name}: first-step log p within ${firstErr.toPrecision(2)} of llama.cpp's; its greedy choices within ${worstMiss.toPrecision(2)} of our best; free-running ids ${same < 0 ? `equal (${ids.length})` : `equal for ${same} steps (llama.cpp's top-2 gap at step ${same}: ${want.gaps[same]})`}`);
      const loose = NOT_EXACT[name];
      const tol = loose ?? LOGPROB_TOL[info.type];
      expect(firstErr).toBeLessThan(FIRST_STEP_LOOSE[name] ?? tol);
      expect(worstMiss).toBeLessThan(tol);
      if (loose) expect(ids, `${name} now follows llama.cpp's path: drop it from NOT_EXACT`).not.toEqual(want.ids);
      else expect(ids).toEqual(want.ids);
      expect(want.ids.length).toBeGreaterThanOrEqual(32);
    } finally {
      model.dispose();
    }
  });

  const tokenizerCases = Object.entries(models).filter(([, info]) => info.type === "F32");
  it.each(tokenizerCases)("%s: budget's weightBytes is the float32 size of the file's tensors", (name) => {
    const { config } = fixture(name);
    const g = parseGguf(new Uint8Array(readFileSync(new URL(`${name}.gguf`, DIR))), name);
    let floats = 0;
    for (const t of g.tensors.values()) floats += t.size;
    expect(weightBytes(config)).toBe(floats * 4);
  });

  it.each(tokenizerCases)("%s: the file's tokenizer splits text as llama.cpp's does", (name) => {
    const { tokenizer, config } = fixture(name);
    for (const { text, ids } of answer(name).tokens) {
      const ours = tokenizer!.encode(text).ids;
      // llama.cpp's tokenize() adds no BOS; ours adds the file's when add_bos_token says so.
      expect(config.bos_id >= 0 && ours[0] === config.bos_id ? ours.slice(1) : ours, JSON.stringify(text)).toEqual(ids);
    }
  });
});

/**
 * The same weights as a Hugging Face folder: config.json as transformers writes it for the
 * architecture, model.safetensors under HF names (Gemma's norms as stored there: w of 1 + w).
 * llama is left out: llama.cpp's converter permutes its q/k rows, so its GGUF is not HF's layout.
 */
function asHuggingFace(arch: string, o: OpenedModel): { files: Record<string, Uint8Array> } {
  const c: ModelConfig = o.config;
  const fused = { qkv: o.tensors.has("model.layers.0.self_attn.qkv_proj.weight"), gateUp: o.tensors.has("model.layers.0.mlp.gate_up_proj.weight") };
  const gemma = arch.startsWith("gemma");
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [name, shape] of llamaTensors(c, fused)) {
    const data = o.tensors.read(name);
    tensors[name] = { shape, data: gemma && /norm\.weight$/.test(name) ? data.map((w) => w - 1) : data };
  }
  const config: Record<string, unknown> = {
    model_type: arch, hidden_size: c.d_model, num_attention_heads: c.n_heads, num_key_value_heads: c.n_kv_heads, head_dim: c.head_dim,
    intermediate_size: c.d_ff, num_hidden_layers: c.decoder_layers, rms_norm_eps: c.norm_eps, rope_theta: c.rope_theta,
    max_position_embeddings: c.max_positions, vocab_size: c.vocab_size, tie_word_embeddings: c.tied_output,
    hidden_act: gemma ? "gelu_pytorch_tanh" : "silu",
  };
  if (arch === "gemma2") {
    Object.assign(config, { attn_logit_softcapping: c.attention_softcap, final_logit_softcapping: c.final_softcap, sliding_window: c.sliding_window, query_pre_attn_scalar: c.head_dim });
  }
  return { files: { "config.json": new TextEncoder().encode(JSON.stringify(config)), "model.safetensors": writeSafetensors(tensors) } };
}

describe("Hugging Face safetensors + config.json of the same architectures", () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ threads: 1 });
  });
  afterAll(() => rt.dispose());

  it.each(["qwen2", "qwen3", "gemma", "gemma2", "phi3"])("%s: the same logits as its GGUF", async (arch) => {
    const gguf = fixture(`${arch}_f32`);
    const hf = openModel(asHuggingFace(arch, gguf));
    expect(hf.format).toBe("hf");
    const { prompt } = models[`${arch}_f32`];
    // The layouts are compared, not GELU's rounding: ggml's f16 GELU (gelu_f16) is a GGUF-only setting.
    const a = Model.fromTensors(rt, { ...gguf.config, gelu_f16: false }, gguf.tensors);
    const b = Model.fromTensors(rt, hf.config, hf.tensors);
    try {
      const want = (await a.forward({ tokens: [prompt] })).logits![0];
      const got = (await b.forward({ tokens: [prompt] })).logits![0];
      // Gemma's 1 + w is re-added in float32: its norms may round differently by an ulp.
      let err = 0;
      for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(got[i] - want[i]));
      expect(err).toBeLessThan(1e-4);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
