// From a checkpoint's tensor names to the per-layer weights the ops take. Each naming
// scheme is one function; every tensor is looked up by name and its shape checked here.
import { ModelFormatError } from "../errors.js";
import { type QuantizedMatrix, quantRows } from "../tensor/quant_blocks.js";
import type { AttentionWeights, ScoreWeights } from "../ops/attention.js";
import { type EmbeddingTable, GATHERED_QUANTS } from "../ops/embedding.js";
import type { FfnWeights } from "../ops/ffn.js";
import type { LinearWeights } from "../ops/linear.js";
import type { NormWeights } from "../ops/norm.js";
import { type ModelConfig, kvDim, qDim } from "../config/config.js";
import type { TensorSource } from "../config/tensor_source.js";

/** One transformer block: self-attention, optional cross-attention, feed-forward, and their norms. */
export interface LayerWeights {
  selfAttn: AttentionWeights;
  crossAttn?: AttentionWeights;
  ffn: FfnWeights;
  /** In block order: before/after self-attention, cross-attention (decoder), feed-forward. */
  selfNorm: NormWeights;
  crossNorm?: NormWeights;
  ffnNorm: NormWeights;
  /** post_norms (Gemma 2): norms of the self-attention and FFN outputs before the residual add. */
  selfPostNorm?: NormWeights;
  ffnPostNorm?: NormWeights;
}

/** Everything a model holds, in canonical form (linear weights out x in). */
export interface ModelWeights {
  /** Token table of the encoder (encoder-decoder: source; encoder-only: the one table). */
  srcEmbed?: EmbeddingTable;
  /** Token table of the decoder (encoder-decoder: target; decoder-only: the one table); q8_0 / q4_0 / k-quant rows when a GGUF file stores it so. */
  tgtEmbed?: EmbeddingTable;
  /** Learned positions (max_positions x d_model), shared by both stacks. */
  positions?: Float32Array;
  /** Norm over the summed embeddings (BERT). */
  embedNorm?: NormWeights;
  /**
   * Token-type table minus its row 0 (types x d_model; row 0 is zeros): row 0 is folded into
   * `positions`, so only tokens of another type (a pair's second segment) add a row. BERT only.
   */
  tokenTypes?: Float32Array;
  encoder: LayerWeights[];
  decoder: LayerWeights[];
  encoderNorm?: NormWeights;
  decoderNorm?: NormWeights;
  /** Vocabulary projection (vocab x d_model); the tied case reuses the token table. */
  output?: LinearWeights;
}

/** Reads tensors by name with shape checks; a missing tensor or wrong shape is a ModelFormatError naming it. */
class Reader {
  constructor(private readonly src: TensorSource) {}

  has(name: string): boolean {
    return this.src.has(name);
  }

  /** A 2-D tensor whose row count the config does not give (e.g. BERT's token types). */
  rows(name: string, cols: number): number {
    const s = this.src.shape(name);
    if (s.length !== 2 || s[1] !== cols) throw new ModelFormatError(this.src.file, `tensor "${name}" shape`, `[n, ${cols}]`, `[${s}]`);
    return s[0];
  }

  get(name: string, shape: readonly number[]): Float32Array {
    if (!this.src.has(name)) throw new ModelFormatError(this.src.file, `tensor "${name}"`, `present, shape [${shape}]`, "missing");
    const found = this.src.shape(name);
    if (found.length !== shape.length || found.some((d, i) => d !== shape[i])) {
      throw new ModelFormatError(this.src.file, `tensor "${name}" shape`, `[${shape}]`, `[${found}]`);
    }
    return this.src.read(name);
  }

  /** A linear weight [out, in]: its quantized blocks when the file stores it so, else float32 (`float` if already read). */
  weight(name: string, shape: readonly [number, number], float?: Float32Array): Float32Array | QuantizedMatrix {
    const q = this.src.has(name) ? this.src.quantized?.(name) : undefined;
    if (!q) return float ?? this.get(name, shape);
    if (q.rows !== shape[0] || q.cols !== shape[1]) throw new ModelFormatError(this.src.file, `tensor "${name}" shape`, `[${shape}]`, `[${q.rows},${q.cols}]`);
    return q;
  }

  /** A token table [rows, d]: q8_0 / q4_0 / k-quant rows as stored (the gather dequantizes them), else float32. */
  table(name: string, shape: readonly [number, number]): EmbeddingTable {
    if (!this.src.has(name)) return this.get(name, shape);
    const type = this.src.quantType ? this.src.quantType(name) : this.src.quantized?.(name)?.type;
    return type && GATHERED_QUANTS.has(type) ? this.weight(name, shape) : this.get(name, shape);
  }

  /** nn.Linear(in, out): weight [out, in] and, when `bias`, bias [out]. */
  linear(prefix: string, inF: number, outF: number, bias: boolean): LinearWeights {
    return {
      weight: this.weight(`${prefix}.weight`, [outF, inF]),
      bias: bias ? this.get(`${prefix}.bias`, [outF]) : undefined,
      inFeatures: inF,
      outFeatures: outF,
    };
  }

  /** HF Conv1D(in, out): weight [in, out], transposed here to [out, in]. */
  conv1d(prefix: string, inF: number, outF: number): LinearWeights {
    return { weight: transpose(this.get(`${prefix}.weight`, [inF, outF]), inF, outF), bias: this.get(`${prefix}.bias`, [outF]), inFeatures: inF, outFeatures: outF };
  }

  norm(prefix: string, c: ModelConfig, n: number): NormWeights {
    const stored = this.get(`${prefix}.weight`, [n]);
    const weight = c.norm_weight_offset === 0 ? stored : stored.map((w) => w + c.norm_weight_offset);
    return {
      kind: c.norm,
      weight,
      bias: c.norm_bias ? this.get(`${prefix}.bias`, [n]) : undefined,
      eps: c.norm_eps,
    };
  }
}

/** a (rows x cols) -> (cols x rows). */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

/** Rows [r0, r1) of a linear: q, k, v out of a fused projection. */
function sliceRows(l: LinearWeights, r0: number, r1: number): LinearWeights {
  return {
    weight: l.weight instanceof Float32Array ? l.weight.subarray(r0 * l.inFeatures, r1 * l.inFeatures) : quantRows(l.weight, r0, r1),
    bias: l.bias?.subarray(r0, r1),
    inFeatures: l.inFeatures,
    outFeatures: r1 - r0,
  };
}

/** Loads and checks every tensor the config needs, in canonical form. */
export function loadWeights(config: ModelConfig, src: TensorSource): ModelWeights {
  const r = new Reader(src);
  const archOf: Record<string, string> = { "hf-gpt2": "decoder", "hf-llama": "decoder", "hf-bert": "encoder" };
  const need = archOf[config.naming];
  if (need !== undefined && config.arch !== need) {
    throw new ModelFormatError(src.file, "arch", `"${need}" for naming "${config.naming}"`, `"${config.arch}"`);
  }
  switch (config.naming) {
    case "torch-transformer":
      return torchTransformer(config, r);
    case "hf-gpt2":
      return hfGpt2(config, r);
    case "hf-llama":
      return hfLlama(config, r);
    case "hf-bert":
      return hfBert(config, r);
  }
}

const join = (prefix: string, name: string) => (prefix ? `${prefix}.${name}` : name);

/**
 * The scoring-function tensors of the attention block at `prefix` (see attention_score in
 * config.ts); undefined for scaled_dot. A missing tensor is a ModelFormatError naming it.
 */
function scoreWeights(c: ModelConfig, r: Reader, prefix: string): ScoreWeights | undefined {
  const H = c.n_heads;
  const hd = c.head_dim;
  const a = c.attention_score_dim;
  switch (c.attention_score) {
    case "scaled_dot":
      return undefined;
    case "dot":
      return { kind: "dot" };
    case "general":
      return { kind: "general", w: r.get(`${prefix}.score.w`, [H, hd, hd]) };
    case "additive":
      return {
        kind: "additive", dim: a,
        wq: r.get(`${prefix}.score.w_q`, [H, a, hd]), wk: r.get(`${prefix}.score.w_k`, [H, a, hd]), v: r.get(`${prefix}.score.v`, [H, a]),
      };
  }
}

/**
 * torch nn.Transformer state_dict names. Stacks: `<encoder>.layers.<i>.` and `<encoder>.norm`
 * (same for decoder); tensor_names keys and their defaults:
 * - "encoder" ("encoder"), "decoder" ("decoder"): stack prefixes ("" for a bare nn.TransformerEncoder)
 * - "src_embed" ("src_embed.weight"), "tgt_embed" ("tgt_embed.weight"): encoder-decoder token tables
 * - "embed" ("embed.weight"): token table of a single-stack model
 * - "positions" ("pos_embed.weight"): learned positions
 * - "output" ("generator"): vocabulary projection prefix (.weight, .bias)
 * Layers: self_attn.in_proj_weight [q;k;v] / in_proj_bias, self_attn.out_proj, multihead_attn.*
 * (decoder cross-attention), linear1 (and linear3 as the SwiGLU gate), linear2, norm1..norm3.
 */
function torchTransformer(c: ModelConfig, r: Reader): ModelWeights {
  const n = (key: string, dflt: string) => c.tensor_names[key] ?? dflt;
  const d = c.d_model;
  const attn = (prefix: string): AttentionWeights => {
    const q = qDim(c);
    const kv = kvDim(c);
    const inProj: LinearWeights = {
      weight: r.weight(`${prefix}.in_proj_weight`, [q + 2 * kv, d]),
      bias: c.attention_bias ? r.get(`${prefix}.in_proj_bias`, [q + 2 * kv]) : undefined,
      inFeatures: d,
      outFeatures: q + 2 * kv,
    };
    return {
      heads: c.n_heads, kvHeads: c.n_kv_heads, headDim: c.head_dim,
      q: sliceRows(inProj, 0, q), k: sliceRows(inProj, q, q + kv), v: sliceRows(inProj, q + kv, q + 2 * kv),
      o: r.linear(`${prefix}.out_proj`, q, d, c.attention_bias),
      score: scoreWeights(c, r, prefix),
    };
  };
  const ffn = (p: string): FfnWeights => ({
    activation: c.activation,
    up: r.linear(`${p}linear1`, d, c.d_ff, c.ffn_bias),
    gate: c.activation === "swiglu" ? r.linear(`${p}linear3`, d, c.d_ff, c.ffn_bias) : undefined,
    down: r.linear(`${p}linear2`, c.d_ff, d, c.ffn_bias),
  });
  const stack = (prefix: string, layers: number, cross: boolean): LayerWeights[] =>
    Array.from({ length: layers }, (_, i) => {
      const p = `${join(prefix, `layers.${i}`)}.`;
      return cross
        ? {
          selfAttn: attn(`${p}self_attn`), selfNorm: r.norm(`${p}norm1`, c, d),
          crossAttn: attn(`${p}multihead_attn`), crossNorm: r.norm(`${p}norm2`, c, d),
          ffn: ffn(p), ffnNorm: r.norm(`${p}norm3`, c, d),
        }
        : { selfAttn: attn(`${p}self_attn`), selfNorm: r.norm(`${p}norm1`, c, d), ffn: ffn(p), ffnNorm: r.norm(`${p}norm2`, c, d) };
    });
  const enc = n("encoder", "encoder");
  const dec = n("decoder", "decoder");
  const ed = c.arch === "encoder-decoder";
  const w: ModelWeights = {
    encoder: stack(enc, c.encoder_layers, false),
    decoder: stack(dec, c.decoder_layers, ed),
  };
  if (c.encoder_layers > 0 && c.encoder_final_norm) w.encoderNorm = r.norm(join(enc, "norm"), c, d);
  if (c.decoder_layers > 0 && c.decoder_final_norm) w.decoderNorm = r.norm(join(dec, "norm"), c, d);
  if (ed) {
    w.tgtEmbed = r.get(n("tgt_embed", "tgt_embed.weight"), [c.tgt_vocab_size, d]);
    w.srcEmbed = c.shared_embeddings ? w.tgtEmbed : r.get(n("src_embed", "src_embed.weight"), [c.src_vocab_size, d]);
  } else {
    const table = r.get(n("embed", "embed.weight"), [c.vocab_size, d]);
    if (c.arch === "encoder") w.srcEmbed = table;
    else w.tgtEmbed = table;
  }
  if (c.positions === "learned") w.positions = r.get(n("positions", "pos_embed.weight"), [c.max_positions, d]);
  if (c.lm_head) w.output = outputHead(c, r, n("output", "generator"), (w.tgtEmbed ?? w.srcEmbed)!, n(ed ? "tgt_embed" : "embed", ed ? "tgt_embed.weight" : "embed.weight"));
  return w;
}

/** The vocabulary projection: its own tensors, or the token table when tied. */
function outputHead(c: ModelConfig, r: Reader, prefix: string, table: EmbeddingTable, tableName: string): LinearWeights {
  const d = c.d_model;
  const v = c.vocab_size;
  if (c.tied_output) {
    // A quantized table stays quantized as the head (llama.cpp multiplies by the stored blocks).
    const weight = r.weight(tableName, [v, d], table instanceof Float32Array ? table : undefined);
    return { weight, bias: c.output_bias ? r.get(`${prefix}.bias`, [v]) : undefined, inFeatures: d, outFeatures: v };
  }
  return r.linear(prefix, d, v, c.output_bias);
}

/**
 * Hugging Face GPT-2 names (optionally under "transformer."): wte, wpe, h.<i>.ln_1,
 * attn.c_attn (Conv1D, q;k;v), attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj, ln_f; lm_head when not tied.
 */
function hfGpt2(c: ModelConfig, r: Reader): ModelWeights {
  const p = c.tensor_names.prefix ?? (r.has("transformer.wte.weight") ? "transformer." : "");
  const d = c.d_model;
  const decoder = Array.from({ length: c.decoder_layers }, (_, i): LayerWeights => {
    const h = `${p}h.${i}.`;
    const qkv = r.conv1d(`${h}attn.c_attn`, d, 3 * d);
    return {
      selfNorm: r.norm(`${h}ln_1`, c, d),
      selfAttn: {
        heads: c.n_heads, kvHeads: c.n_heads, headDim: c.head_dim,
        q: sliceRows(qkv, 0, d), k: sliceRows(qkv, d, 2 * d), v: sliceRows(qkv, 2 * d, 3 * d),
        o: r.conv1d(`${h}attn.c_proj`, d, d),
        score: scoreWeights(c, r, `${h}attn`),
      },
      ffnNorm: r.norm(`${h}ln_2`, c, d),
      ffn: { activation: c.activation, up: r.conv1d(`${h}mlp.c_fc`, d, c.d_ff), down: r.conv1d(`${h}mlp.c_proj`, c.d_ff, d) },
    };
  });
  const w: ModelWeights = { encoder: [], decoder, tgtEmbed: r.table(`${p}wte.weight`, [c.vocab_size, d]) };
  if (c.positions === "learned") w.positions = r.get(`${p}wpe.weight`, [c.max_positions, d]);
  if (c.decoder_final_norm) w.decoderNorm = r.norm(`${p}ln_f`, c, d);
  if (c.lm_head) w.output = outputHead(c, r, "lm_head", w.tgtEmbed!, `${p}wte.weight`);
  return w;
}

/**
 * Hugging Face Llama names and those of its relatives: model.embed_tokens, model.layers.<i>.
 * self_attn.{q,k,v,o}_proj (Phi-3: fused self_attn.qkv_proj), self_attn.{q,k}_norm (qk_norm,
 * Qwen3), mlp.{gate,up,down}_proj (Phi-3: fused mlp.gate_up_proj, gate rows first),
 * input_layernorm, post_attention_layernorm (the FFN's norm; with post_norms, Gemma 2, the
 * attention output's, and pre_/post_feedforward_layernorm around the FFN), model.norm, lm_head;
 * model.embed_positions (learned positions: GPT-2 from GGUF).
 */
function hfLlama(c: ModelConfig, r: Reader): ModelWeights {
  const d = c.d_model;
  const b = c.attention_bias;
  const q = qDim(c);
  const kv = kvDim(c);
  const gated = c.activation === "swiglu" || c.activation === "geglu";
  const decoder = Array.from({ length: c.decoder_layers }, (_, i): LayerWeights => {
    const l = `model.layers.${i}.`;
    const a = `${l}self_attn.`;
    const selfNorm = r.norm(`${l}input_layernorm`, c, d);
    let qkv: [LinearWeights, LinearWeights, LinearWeights];
    if (r.has(`${a}qkv_proj.weight`)) {
      const fused = r.linear(`${a}qkv_proj`, d, q + 2 * kv, b);
      qkv = [sliceRows(fused, 0, q), sliceRows(fused, q, q + kv), sliceRows(fused, q + kv, q + 2 * kv)];
    } else {
      qkv = [r.linear(`${a}q_proj`, d, q, b), r.linear(`${a}k_proj`, d, kv, b), r.linear(`${a}v_proj`, d, kv, b)];
    }
    let up: LinearWeights;
    let gate: LinearWeights | undefined;
    if (gated && r.has(`${l}mlp.gate_up_proj.weight`)) {
      const fused = r.linear(`${l}mlp.gate_up_proj`, d, 2 * c.d_ff, c.ffn_bias);
      gate = sliceRows(fused, 0, c.d_ff);
      up = sliceRows(fused, c.d_ff, 2 * c.d_ff);
    } else {
      up = r.linear(`${l}mlp.up_proj`, d, c.d_ff, c.ffn_bias);
      gate = gated ? r.linear(`${l}mlp.gate_proj`, d, c.d_ff, c.ffn_bias) : undefined;
    }
    const layer: LayerWeights = {
      selfNorm,
      selfAttn: {
        heads: c.n_heads, kvHeads: c.n_kv_heads, headDim: c.head_dim,
        q: qkv[0], k: qkv[1], v: qkv[2],
        o: r.linear(`${a}o_proj`, q, d, c.attention_out_bias),
        qNorm: c.qk_norm ? r.norm(`${a}q_norm`, c, c.head_dim) : undefined,
        kNorm: c.qk_norm ? r.norm(`${a}k_norm`, c, c.head_dim) : undefined,
        score: scoreWeights(c, r, `${l}self_attn`),
      },
      ffnNorm: r.norm(c.post_norms ? `${l}pre_feedforward_layernorm` : `${l}post_attention_layernorm`, c, d),
      ffn: { activation: c.activation, geluF16: c.gelu_f16, up, gate, down: r.linear(`${l}mlp.down_proj`, c.d_ff, d, c.ffn_bias) },
    };
    if (c.post_norms) {
      layer.selfPostNorm = r.norm(`${l}post_attention_layernorm`, c, d);
      layer.ffnPostNorm = r.norm(`${l}post_feedforward_layernorm`, c, d);
    }
    return layer;
  });
  const w: ModelWeights = { encoder: [], decoder, tgtEmbed: r.table("model.embed_tokens.weight", [c.vocab_size, d]) };
  if (c.positions === "learned") w.positions = r.get("model.embed_positions.weight", [c.max_positions, d]);
  if (c.decoder_final_norm) w.decoderNorm = r.norm("model.norm", c, d);
  if (c.lm_head) w.output = outputHead(c, r, "lm_head", w.tgtEmbed!, "model.embed_tokens.weight");
  return w;
}

/**
 * Hugging Face BERT names (optionally under "bert."): embeddings.{word,position,token_type}_embeddings,
 * embeddings.LayerNorm, encoder.layer.<i>.attention.self.{query,key,value},
 * attention.output.{dense,LayerNorm}, intermediate.dense, output.{dense,LayerNorm}.
 * Token type 0 is folded into the position table; the other types keep their difference to it.
 */
function hfBert(c: ModelConfig, r: Reader): ModelWeights {
  const p = c.tensor_names.prefix ?? (r.has("bert.embeddings.word_embeddings.weight") ? "bert." : "");
  const d = c.d_model;
  const b = c.attention_bias;
  const encoder = Array.from({ length: c.encoder_layers }, (_, i): LayerWeights => {
    const l = `${p}encoder.layer.${i}.`;
    return {
      selfAttn: {
        heads: c.n_heads, kvHeads: c.n_kv_heads, headDim: c.head_dim,
        q: r.linear(`${l}attention.self.query`, d, qDim(c), b),
        k: r.linear(`${l}attention.self.key`, d, kvDim(c), b),
        v: r.linear(`${l}attention.self.value`, d, kvDim(c), b),
        o: r.linear(`${l}attention.output.dense`, qDim(c), d, b),
        score: scoreWeights(c, r, `${l}attention.self`),
      },
      selfNorm: r.norm(`${l}attention.output.LayerNorm`, c, d),
      ffn: { activation: c.activation, up: r.linear(`${l}intermediate.dense`, d, c.d_ff, c.ffn_bias), down: r.linear(`${l}output.dense`, c.d_ff, d, c.ffn_bias) },
      ffnNorm: r.norm(`${l}output.LayerNorm`, c, d),
    };
  });
  const e = `${p}embeddings.`;
  const w: ModelWeights = { encoder, decoder: [], srcEmbed: r.get(`${e}word_embeddings.weight`, [c.vocab_size, d]) };
  if (c.positions === "learned") {
    w.positions = r.get(`${e}position_embeddings.weight`, [c.max_positions, d]);
    const types = `${e}token_type_embeddings.weight`;
    if (r.has(types)) {
      const table = r.get(types, [r.rows(types, d), d]);
      const type0 = table.slice(0, d);
      for (let i = 0; i < w.positions.length; i++) w.positions[i] += type0[i % d];
      if (table.length > d) w.tokenTypes = table.map((v, i) => v - type0[i % d]);
    }
  }
  if (c.embed_norm) w.embedNorm = r.norm(`${e}LayerNorm`, c, d);
  if (c.encoder_final_norm) w.encoderNorm = r.norm(`${p}encoder.norm`, c, d);
  return w;
}

/**
 * The names of the tensors `config` reads as linear weights [out, in] and nothing else (so
 * not embeddings, norms, tied output tables or Conv1D weights): what `simdformer quantize`
 * may store as q8_0 / q4_0. Found by loading the weights through a source that records
 * which path asked for each tensor.
 */
export function linearWeightNames(config: ModelConfig, src: TensorSource): string[] {
  // Reader.weight asks quantized() and, told "no", reads the float tensor: a linear weight is
  // read exactly as often as it is asked for; one read more often is used some other way too.
  const asked = new Map<string, number>();
  const reads = new Map<string, number>();
  const bump = (m: Map<string, number>, n: string) => m.set(n, (m.get(n) ?? 0) + 1);
  const recorder: TensorSource = {
    file: src.file,
    has: (n) => src.has(n),
    shape: (n) => src.shape(n),
    read: (n) => {
      bump(reads, n);
      return src.read(n);
    },
    quantized: (n) => {
      bump(asked, n);
      return undefined;
    },
  };
  loadWeights(config, recorder);
  return [...asked].filter(([n, times]) => reads.get(n) === times).map(([n]) => n);
}
