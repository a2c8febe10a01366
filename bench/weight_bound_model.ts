// A weight-bound decoder built in memory (random weights, fixed seed), shared by the quant and plan
// benches: Llama-style, ~100 M parameters, so a decode step reads ~400 MB of f32 weights (~106 MB as q8_0).
import type { TensorSource } from "../src/config/tensor_source.js";
import type { QuantizedMatrix } from "../src/tensor/quant_blocks.js";
import { Rng } from "../src/util/rng.js";

/** The config: Llama-style, d_model 1024, 8 layers, d_ff 2816 (SwiGLU), vocab 1024: ~100 M parameters. */
export const CONFIG = {
  format: "simdformer", version: 1, arch: "decoder", naming: "hf-llama",
  d_model: 1024, n_heads: 16, d_ff: 2816, decoder_layers: 8, activation: "swiglu",
  norm: "rmsnorm", norm_position: "pre", norm_bias: false, norm_eps: 1e-5, positions: "rotary", max_positions: 256,
  vocab_size: 1024, decoder_final_norm: true, tied_output: false, attention_bias: false, ffn_bias: false, output_bias: false,
  bos_id: 1, eos_id: -1, pad_id: 0, unk_id: 0,
};

/** Every tensor of the config as [name, shape], Llama naming. */
function tensorShapes(): Array<[string, number[]]> {
  const d = CONFIG.d_model;
  const out: Array<[string, number[]]> = [["model.embed_tokens.weight", [CONFIG.vocab_size, d]]];
  for (let i = 0; i < CONFIG.decoder_layers; i++) {
    const l = `model.layers.${i}.`;
    for (const p of ["q", "k", "v", "o"]) out.push([`${l}self_attn.${p}_proj.weight`, [d, d]]);
    out.push([`${l}mlp.gate_proj.weight`, [CONFIG.d_ff, d]], [`${l}mlp.up_proj.weight`, [CONFIG.d_ff, d]], [`${l}mlp.down_proj.weight`, [d, CONFIG.d_ff]]);
    out.push([`${l}input_layernorm.weight`, [d]], [`${l}post_attention_layernorm.weight`, [d]]);
  }
  out.push(["model.norm.weight", [d]], ["lm_head.weight", [CONFIG.vocab_size, d]]);
  return out;
}

/** Random weights (uniform, variance 1/fan_in; norms 1), fixed seed. */
export function makeTensors(): Map<string, { shape: number[]; data: Float32Array }> {
  const rng = new Rng(7);
  const m = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, shape] of tensorShapes()) {
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (shape.length === 1) data = new Float32Array(n).fill(1);
    else {
      const a = Math.sqrt(3 / shape[1]);
      data = rng.f32(n, -a, a);
    }
    m.set(name, { shape, data });
  }
  return m;
}

export function source(tensors: Map<string, { shape: number[]; data: Float32Array }>, quantized?: Map<string, QuantizedMatrix>): TensorSource {
  return {
    file: "<bench model>",
    has: (n) => tensors.has(n),
    shape: (n) => tensors.get(n)!.shape,
    read: (n) => tensors.get(n)!.data,
    quantized: (n) => quantized?.get(n),
  };
}
