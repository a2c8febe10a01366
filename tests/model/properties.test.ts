// Properties over random architectures (torch-transformer names, random weights): incremental
// decoding equals the full forward, a ragged batch equals its sequences one by one, padding
// masks hide padding. Covers the config combinations the PyTorch fixtures do not.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { type ModelConfig, parseConfig } from "../../src/config/config.js";
import { Model } from "../../src/model/model.js";
import { Rng } from "../../src/util/rng.js";
import { relError } from "./helpers.js";

const TOL = 1e-5;

/** Random weights for every tensor the config asks of the torch-transformer naming. */
function randomTensors(c: ModelConfig, rng: Rng): Record<string, { shape: number[]; data: Float32Array }> {
  const t: Record<string, { shape: number[]; data: Float32Array }> = {};
  const add = (name: string, shape: number[], scale: number, center = 0) => {
    t[name] = { shape, data: rng.f32(shape.reduce((a, b) => a * b, 1), center - scale, center + scale) };
  };
  const d = c.d_model;
  const q = c.n_heads * c.head_dim;
  const kv = c.n_kv_heads * c.head_dim;
  const norm = (p: string) => {
    add(`${p}.weight`, [d], 0.2, 1);
    if (c.norm_bias) add(`${p}.bias`, [d], 0.1);
  };
  const attn = (p: string) => {
    add(`${p}.in_proj_weight`, [q + 2 * kv, d], 1 / Math.sqrt(d));
    if (c.attention_bias) add(`${p}.in_proj_bias`, [q + 2 * kv], 0.1);
    add(`${p}.out_proj.weight`, [d, q], 1 / Math.sqrt(q));
    if (c.attention_bias) add(`${p}.out_proj.bias`, [d], 0.1);
  };
  const layer = (p: string, cross: boolean) => {
    attn(`${p}.self_attn`);
    if (cross) attn(`${p}.multihead_attn`);
    for (const l of c.activation === "swiglu" ? ["linear1", "linear3"] : ["linear1"]) {
      add(`${p}.${l}.weight`, [c.d_ff, d], 1 / Math.sqrt(d));
      if (c.ffn_bias) add(`${p}.${l}.bias`, [c.d_ff], 0.1);
    }
    add(`${p}.linear2.weight`, [d, c.d_ff], 1 / Math.sqrt(c.d_ff));
    if (c.ffn_bias) add(`${p}.linear2.bias`, [d], 0.1);
    for (let n = 1; n <= (cross ? 3 : 2); n++) norm(`${p}.norm${n}`);
  };
  const ed = c.arch === "encoder-decoder";
  if (ed) {
    add("tgt_embed.weight", [c.tgt_vocab_size, d], 1);
    if (!c.shared_embeddings) add("src_embed.weight", [c.src_vocab_size, d], 1);
  } else {
    add("embed.weight", [c.vocab_size, d], 1);
  }
  if (c.positions === "learned") add("pos_embed.weight", [c.max_positions, d], 0.5);
  for (let i = 0; i < c.encoder_layers; i++) layer(`encoder.layers.${i}`, false);
  for (let i = 0; i < c.decoder_layers; i++) layer(`decoder.layers.${i}`, ed);
  if (c.encoder_layers && c.encoder_final_norm) norm("encoder.norm");
  if (c.decoder_layers && c.decoder_final_norm) norm("decoder.norm");
  if (c.lm_head && !c.tied_output) add("generator.weight", [c.vocab_size, d], 1 / Math.sqrt(d));
  if (c.lm_head && c.output_bias) add("generator.bias", [c.vocab_size], 0.1);
  return t;
}

/** A random small architecture: every choice of the config schema is drawn. */
function randomConfig(rng: Rng, arch: ModelConfig["arch"]): ModelConfig {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)];
  const heads = pick([1, 2, 3, 4, 6]);
  const kvHeads = pick([1, 2, 3, 4, 6].filter((k) => heads % k === 0));
  const headDim = pick([4, 6, 8]);
  const norm = pick(["layernorm", "rmsnorm"] as const);
  const positions = pick(["sinusoidal", "learned", "rotary", "none"] as const);
  const tied = rng.next() < 0.5;
  const vocab = 20 + Math.floor(rng.next() * 20);
  return parseConfig({
    arch, d_model: 24, n_heads: heads, n_kv_heads: kvHeads, head_dim: headDim, d_ff: pick([16, 40]),
    encoder_layers: arch === "decoder" ? 0 : pick([1, 2]), decoder_layers: arch === "encoder" ? 0 : pick([1, 2]),
    activation: pick(["relu", "gelu", "gelu_tanh", "swiglu"] as const), norm, norm_position: pick(["pre", "post"] as const),
    encoder_final_norm: rng.next() < 0.5, decoder_final_norm: rng.next() < 0.5, positions, rope_interleaved: rng.next() < 0.5,
    rope_theta: pick([100, 10000]), max_positions: 24, embed_scale: rng.next() < 0.5, tied_output: tied,
    attention_bias: rng.next() < 0.5, ffn_bias: rng.next() < 0.5, output_bias: !tied && rng.next() < 0.5,
    shared_embeddings: arch === "encoder-decoder" && rng.next() < 0.5,
    ...(arch === "encoder-decoder" ? { src_vocab_size: vocab, tgt_vocab_size: vocab } : { vocab_size: vocab }),
  });
}

let rt: Runtime;
beforeAll(async () => {
  rt = await createRuntime({ build: "simd", threads: 1 });
});
afterAll(() => rt.dispose());

const cases = (["decoder", "encoder-decoder", "encoder"] as const).flatMap((arch, a) => [0, 1, 2, 3, 4].map((seed) => ({ arch, seed: 10 * a + seed })));

describe.each(cases)("random $arch model #$seed", ({ arch, seed }) => {
  const rng = new Rng(1000 + seed);
  const config = randomConfig(rng, arch);
  const ids = (n: number) => Array.from({ length: n }, () => 4 + Math.floor(rng.next() * (config.vocab_size - 4)));
  const seqs = [ids(9), ids(3), ids(6)];
  const srcs = arch === "encoder-decoder" ? [ids(5), ids(8), ids(2)] : undefined;
  let model: Model;
  beforeAll(() => {
    model = Model.fromTensors(rt, config, { file: "random", ...makeSource(randomTensors(config, rng)) });
  });
  afterAll(() => model.dispose());

  it("a ragged batch equals its sequences one by one", async () => {
    const outputs = config.lm_head ? (["logits", "hidden"] as const) : (["hidden"] as const);
    const batch = await model.forward({ src: srcs, tokens: seqs, outputs: [...outputs] });
    for (let i = 0; i < seqs.length; i++) {
      const one = await model.forward({ src: srcs && [srcs[i]], tokens: [seqs[i]], outputs: [...outputs] });
      for (const o of outputs) expect(relError(batch[o]![i], one[o]![0])).toBeLessThan(TOL);
    }
  });

  it.runIf(arch !== "encoder")("decoding token by token with the KV cache equals the full forward", async () => {
    const V = model.vocabSize;
    const { logits } = await model.forward({ src: srcs, tokens: seqs });
    const state = await model.startDecoding({ src: srcs, batch: seqs.length, capacity: 1 });
    // Ragged steps: the first sequence feeds two tokens at a time, the others one; finished
    // sequences leave the batch through select().
    const fed = seqs.map(() => 0);
    let live = seqs.map((_, i) => i);
    let checked = 0;
    while (live.length > 0) {
      const chunk = live.map((i) => seqs[i].slice(fed[i], fed[i] + (i === 0 ? 2 : 1)));
      const step = await model.decodeStep(state, chunk);
      live.forEach((i, r) => {
        fed[i] += chunk[r].length;
        expect(relError(step.subarray(r * V, (r + 1) * V), logits![i].subarray((fed[i] - 1) * V, fed[i] * V))).toBeLessThan(TOL);
        checked++;
      });
      const keep = live.map((i, r) => [i, r]).filter(([i]) => fed[i] < seqs[i].length);
      if (keep.length > 0 && keep.length < live.length) state.select(keep.map(([, r]) => r));
      live = keep.map(([i]) => i);
    }
    expect(checked).toBe(5 + 3 + 6);
    state.dispose();
  });

  it.runIf(arch !== "decoder")("key padding masks hide padded source positions", async () => {
    const inputs = srcs ?? seqs;
    const T = Math.max(...inputs.map((s) => s.length));
    const padded = inputs.map((s) => [...s, ...Array(T - s.length).fill(1)]);
    const padding = inputs.map((s) => Array.from({ length: T }, (_, j) => j >= s.length));
    const out = arch === "encoder"
      ? await model.forward({ tokens: padded, padding, outputs: ["hidden"] })
      : await model.forward({ src: padded, srcPadding: padding, tokens: seqs, outputs: ["hidden"] });
    for (let i = 0; i < inputs.length; i++) {
      const one = await model.forward({ src: srcs && [srcs[i]], tokens: [seqs[i]], outputs: ["hidden"] });
      const n = arch === "encoder" ? seqs[i].length * config.d_model : one.hidden![0].length;
      expect(relError(out.hidden![i].subarray(0, n), one.hidden![0])).toBeLessThan(TOL);
    }
  });
});

function makeSource(t: Record<string, { shape: number[]; data: Float32Array }>) {
  return { has: (n: string) => n in t, shape: (n: string) => t[n].shape, read: (n: string) => t[n].data };
}
