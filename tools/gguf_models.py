#!/usr/bin/env python3
"""Random-weight GGUF models of the common architectures, in every type people download.

  fixtures  tests/fixtures/gguf/<model>_<type>.gguf + models.json, one model per architecture shape:
              llama   TinyLlama's shape (GQA, own output matrix)
              smollm  SmolLM's (llama with MQA and tied embeddings)
              qwen2   q/k/v biases, tied output;  qwen3: per-head RMSNorm of q and k, tied output
              gemma   GELU-tanh gated FFN, embeddings x sqrt(d), tied output (norms stored as 1+w,
                      as llama.cpp's converter writes them)
              gemma2  gemma plus norms after attention and FFN, attention and final logit
                      soft-capping, sliding-window attention on even layers
              phi3    fused qkv and gate_up projections
              gpt2    fused qkv, LayerNorm with biases, learned positions, tied output
            each small in F32, F16, Q8_0, Q4_0 (d_model 64) and in Q4_K_M (Q5_K_M and Q6_K too for
            llama and qwen2, the bench's) at d_model 256 (k-quant rows are whole super-blocks of 256).
            tools/llamacpp_reference.mjs then stores llama.cpp's greedy ids and first-step
            log-probabilities of each.
  bench     bench/models/<arch>-<size>-<type>.gguf (gitignored): llama (and qwen2 with --qwen2) at ~15M,
            ~100M and ~350M parameters in Q4_K_M, Q8_0 and F16, for `npm run bench -- gguf`.
            --sizes 15m,100m and --types q4_k_m,q8_0 choose a subset.

Types are llama.cpp's file types as its quantizer writes them: Q4_K_M / Q5_K_M keep attn_v (gpt2:
attn_qkv) and ffn_down in Q6_K on the layers llama.cpp gives more bits (the first and last eighth and
every third between), the output (or the tied embedding) in Q6_K, everything else in the base k-quant,
embeddings included; Q8_0 / Q4_0 / Q6_K are pure (every matrix, embedding and output too); norms and
biases stay F32. The vocabularies come from this project's own tokenizers (tools/format_fixtures.py),
padded with unused tokens to a bench model's vocabulary size. Weights are seeded normals scaled so that
attention is not uniform and the top logits are well apart (greedy ids stay comparable).

Usage: /usr/bin/python3 tools/gguf_models.py fixtures [--models qwen3,gemma] | bench [--qwen2] [--sizes ...] [--types ...]
"""
import json
import os
import sys
import zlib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from format_fixtures import CORPUS, gpt2_vocab, spm_encode, spm_vocab, train_sentencepiece_bpe  # noqa: E402
from gguf_writer import quantize, write_gguf  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "gguf")
BENCH = os.path.join(ROOT, "bench", "models")
CONTEXT = {"small": 64, "k": 64}  # fixtures: prompt + 40 steps; bench models get 1024

# name: d_model, heads, kv_heads, d_ff, layers, vocab (None: the tokenizer's own)
SIZES = {
    "small": (64, 4, 2, 128, 2, None),
    "k": (256, 4, 2, 256, 2, None),
    "15m": (256, 4, 4, 768, 12, 8192),
    "100m": (768, 12, 4, 2048, 8, 32000),
    "350m": (1024, 16, 4, 2816, 24, 32000),
}
FIXTURE_TYPES = {"small": ["F32", "F16", "Q8_0", "Q4_0"], "k": ["Q4_K_M"]}
# fixture model -> (general.architecture, seed); the bench's architectures also get Q5_K_M and Q6_K
FIXTURE_MODELS = {"llama": ("llama", 0), "smollm": ("llama", 3), "qwen2": ("qwen2", 1), "qwen3": ("qwen3", 4),
                  "gemma": ("gemma", 5), "gemma2": ("gemma2", 6), "phi3": ("phi3", 7), "gpt2": ("gpt2", 2)}
BENCH_ARCHS = ("llama", "qwen2")
SOFTCAP_ATTENTION, SOFTCAP_FINAL, SLIDING_WINDOW = 5.0, 10.0, 6  # gemma2: small enough to bite at these sizes


# ------------------------------------------------------------------------------------- tokenizers
def spm_tokenizer(vocab, specials=()):
    """SentencePiece BPE; `specials` (control tokens) go after the unused padding."""
    alphabet, merges = train_sentencepiece_bpe(CORPUS, 60)
    tokens, scores, types = spm_vocab(alphabet, merges)
    pad = (vocab or len(tokens) + len(specials)) - len(tokens) - len(specials)
    tokens, scores, types = tokens + [f"<unused{i}>" for i in range(pad)], scores + [0.0] * pad, types + [5] * pad
    tokens, scores, types = tokens + list(specials), scores + [0.0] * len(specials), types + [3] * len(specials)
    kvs = [("tokenizer.ggml.model", "str", "llama"), ("tokenizer.ggml.tokens", ("arr", "str"), tokens),
           ("tokenizer.ggml.scores", ("arr", "f32"), scores), ("tokenizer.ggml.token_type", ("arr", "i32"), types),
           ("tokenizer.ggml.bos_token_id", "u32", 1), ("tokenizer.ggml.eos_token_id", "u32", 2),
           ("tokenizer.ggml.unknown_token_id", "u32", 0), ("tokenizer.ggml.add_bos_token", "bool", True)]
    prompt = [1] + spm_encode("the cat sat on the mat and the dog", tokens, scores)
    return kvs, len(tokens), prompt


def bpe_tokenizer(vocab, pre):
    """Byte-level BPE (GPT-2's scheme); <|endoftext|> is bos and eos; unused padding after it."""
    tokens, merges = gpt2_vocab(CORPUS, 40)
    eot = len(tokens) - 1
    pad = (vocab or len(tokens)) - len(tokens)
    types = [1] * eot + [3] + [5] * pad
    tokens = tokens + [f"<|unused{i}|>" for i in range(pad)]
    kvs = [("tokenizer.ggml.model", "str", "gpt2"), ("tokenizer.ggml.pre", "str", pre),
           ("tokenizer.ggml.tokens", ("arr", "str"), tokens),
           ("tokenizer.ggml.merges", ("arr", "str"), [f"{a} {b}" for a, b in merges]),
           ("tokenizer.ggml.token_type", ("arr", "i32"), types),
           ("tokenizer.ggml.bos_token_id", "u32", eot), ("tokenizer.ggml.eos_token_id", "u32", eot),
           ("tokenizer.ggml.add_bos_token", "bool", False)]
    return kvs, len(tokens), [40, 41, 260, 270, 7, 5, 33, 261, 44, 265]


# ------------------------------------------------------------------------------------ architectures
def use_more_bits(layer, n):
    """llama.cpp's layers that keep attn_v / ffn_down at more bits in its _M mixes."""
    return layer < n // 8 or layer >= 7 * n // 8 or (layer - n // 8) % 3 == 2


def tensor_type(ftype, name, shape, tied, n_layers):
    """The ggml type a tensor gets in a file of type `ftype` (see the module docstring)."""
    if len(shape) == 1 or ftype == "F32":
        return "F32"
    if name == "position_embd.weight":
        return "F16" if ftype == "F16" else "F32"
    if ftype in ("F16", "Q8_0", "Q4_0", "Q6_K"):
        return ftype
    base = {"Q4_K_M": "Q4_K", "Q5_K_M": "Q5_K"}[ftype]
    if name == "output.weight" or (tied and name == "token_embd.weight"):
        return "Q6_K"
    parts = name.split(".")
    if parts[0] == "blk" and parts[2] in ("attn_v", "attn_qkv", "ffn_down"):
        return "Q6_K" if use_more_bits(int(parts[1]), n_layers) else base
    return base


def normal(scale):
    return lambda rng, s: np.float32(scale) * rng.standard_normal(s, dtype=np.float32)


def architecture(model, size):
    """(metadata, [(name, shape, init)], prompt): init(rng, shape) -> float32 weights."""
    arch = FIXTURE_MODELS.get(model, (model,))[0]
    d, H, KV, FF, L, vocab = SIZES[size]
    context = CONTEXT.get(size, 1024)
    if model == "smollm":
        KV = 1
    hd = d // H
    if arch in ("llama", "gemma", "gemma2", "phi3"):
        # llama.cpp looks Phi-3's end-of-turn tokens up by name and fails to load without them.
        tok_kvs, V, prompt = spm_tokenizer(vocab, ["<|endoftext|>", "<|end|>", "<|user|>", "<|assistant|>"] if arch == "phi3" else [])
    else:
        tok_kvs, V, prompt = bpe_tokenizer(vocab, "gpt-2" if arch == "gpt2" else "qwen2")
    a = arch
    kvs = [("general.architecture", "str", arch), ("general.name", "str", f"simdformer random {model} {size}"),
           (f"{a}.context_length", "u32", context), (f"{a}.embedding_length", "u32", d),
           (f"{a}.block_count", "u32", L), (f"{a}.feed_forward_length", "u32", FF),
           (f"{a}.attention.head_count", "u32", H)]
    if arch == "gpt2":
        kvs += [(f"{a}.attention.layer_norm_epsilon", "f32", 1e-5)]
    else:
        kvs += [(f"{a}.attention.head_count_kv", "u32", KV), (f"{a}.attention.layer_norm_rms_epsilon", "f32", 1e-6)]
        if not arch.startswith("gemma"):
            kvs += [(f"{a}.rope.freq_base", "f32", 10000.0)]
        if arch in ("llama", "phi3"):
            kvs += [(f"{a}.rope.dimension_count", "u32", hd)]
        if arch == "llama":
            kvs += [(f"{a}.vocab_size", "u32", V)]
        if arch.startswith("gemma"):
            kvs += [(f"{a}.attention.key_length", "u32", hd), (f"{a}.attention.value_length", "u32", hd)]
        if arch == "gemma2":
            kvs += [(f"{a}.attn_logit_softcapping", "f32", SOFTCAP_ATTENTION),
                    (f"{a}.final_logit_softcapping", "f32", SOFTCAP_FINAL),
                    (f"{a}.attention.sliding_window", "u32", SLIDING_WINDOW)]
    kvs += tok_kvs

    def lin(gain):
        return lambda rng, s: rng.standard_normal(s, dtype=np.float32) * np.float32(gain / np.sqrt(s[-1]))

    def norm(rng, s):
        return 1 + 0.1 * rng.standard_normal(s, dtype=np.float32)

    t = [("token_embd.weight", (V, d), normal(1.0))]
    if arch == "gpt2":
        t.append(("position_embd.weight", (context, d), normal(0.3)))
    for i in range(L):
        b = f"blk.{i}."
        if arch == "gpt2":
            t += [(b + "attn_norm.weight", (d,), norm), (b + "attn_norm.bias", (d,), normal(0.1)),
                  (b + "attn_qkv.weight", (3 * d, d), lin(1.5)), (b + "attn_qkv.bias", (3 * d,), normal(0.1)),
                  (b + "attn_output.weight", (d, d), lin(1.0)), (b + "attn_output.bias", (d,), normal(0.1)),
                  (b + "ffn_norm.weight", (d,), norm), (b + "ffn_norm.bias", (d,), normal(0.1)),
                  (b + "ffn_up.weight", (FF, d), lin(1.0)), (b + "ffn_up.bias", (FF,), normal(0.1)),
                  (b + "ffn_down.weight", (d, FF), lin(1.0)), (b + "ffn_down.bias", (d,), normal(0.1))]
            continue
        t.append((b + "attn_norm.weight", (d,), norm))
        if arch == "phi3":
            t.append((b + "attn_qkv.weight", ((H + 2 * KV) * hd, d), lin(1.5)))
        else:
            t += [(b + "attn_q.weight", (H * hd, d), lin(1.5)), (b + "attn_k.weight", (KV * hd, d), lin(1.5)),
                  (b + "attn_v.weight", (KV * hd, d), lin(1.0))]
        if arch == "qwen2":
            t += [(b + "attn_q.bias", (H * hd,), normal(0.2)), (b + "attn_k.bias", (KV * hd,), normal(0.2)),
                  (b + "attn_v.bias", (KV * hd,), normal(0.2))]
        if arch == "qwen3":
            t += [(b + "attn_q_norm.weight", (hd,), norm), (b + "attn_k_norm.weight", (hd,), norm)]
        t.append((b + "attn_output.weight", (d, H * hd), lin(1.0)))
        if arch == "gemma2":
            t.append((b + "post_attention_norm.weight", (d,), norm))
        t.append((b + "ffn_norm.weight", (d,), norm))
        if arch == "phi3":
            t.append((b + "ffn_up.weight", (2 * FF, d), lin(1.0)))
        else:
            t += [(b + "ffn_gate.weight", (FF, d), lin(1.0)), (b + "ffn_up.weight", (FF, d), lin(1.0))]
        t.append((b + "ffn_down.weight", (d, FF), lin(1.0)))
        if arch == "gemma2":
            t.append((b + "post_ffw_norm.weight", (d,), norm))
    t.append(("output_norm.weight", (d,), norm))
    if arch == "gpt2":
        t.append(("output_norm.bias", (d,), normal(0.1)))
    if model in ("llama", "phi3"):
        t.append(("output.weight", (V, d), lin(4.0)))
    return kvs, t, prompt


def write_model(path, model, size, ftype, seed):
    """Writes one file; the same seed gives the same float weights for every ftype."""
    kvs, tensors, prompt = architecture(model, size)
    tied = not any(n == "output.weight" for n, _, _ in tensors)
    kvs = kvs + [("general.file_type", "u32", {"F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7, "Q4_K_M": 15, "Q5_K_M": 17, "Q6_K": 18}[ftype])]
    out = []
    for k, (name, shape, init) in enumerate(tensors):
        kind = tensor_type(ftype, name, shape, tied, SIZES[size][4])
        # A tied embedding is the output matrix too: small, so that a token's own embedding does not
        # dominate the residual stream (the model would repeat its input), with the final norm scaling
        # the logits as llama's output matrix does. Gemma multiplies embeddings by sqrt(d) on the way in:
        # smaller by as much, and the final norm larger.
        embed_scale = np.sqrt(SIZES[size][0]) if kvs[0][2].startswith("gemma") else 1.0
        if tied and name == "token_embd.weight":
            init = normal(0.1 / embed_scale)
        if tied and name == "output_norm.weight":
            init = (lambda base, f: lambda rng, s: base(rng, s) * np.float32(f * 40.0 / np.sqrt(s[-1])))(init, embed_scale)
        rng_seed = (seed * 7919 + zlib.crc32(name.encode())) & 0xFFFFFFFF
        out.append((name, kind, shape, (lambda init, shape, kind, s: lambda: quantize(kind, init(np.random.default_rng(s), shape))[0])(init, shape, kind, rng_seed)))
    write_gguf(path, kvs, out)
    n_params = sum(int(np.prod(s)) for _, s, _ in tensors)
    return {"arch": FIXTURE_MODELS.get(model, (model,))[0], "model": model, "size": size, "type": ftype, "params": n_params, "prompt": prompt,
            "tensor_types": {name: kind for name, kind, _, _ in out}}


def arg(name, default):
    return sys.argv[sys.argv.index(name) + 1].split(",") if name in sys.argv else default


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "fixtures":
        os.makedirs(FIXTURES, exist_ok=True)
        manifest = {}
        only = arg("--models", list(FIXTURE_MODELS))
        if os.path.exists(os.path.join(FIXTURES, "models.json")):
            with open(os.path.join(FIXTURES, "models.json")) as f:
                manifest = {k: v for k, v in json.load(f).items() if v.get("model", v["arch"]) not in only}
        for model, (_, seed) in FIXTURE_MODELS.items():
            if model not in only:
                continue
            for size, ftypes in FIXTURE_TYPES.items():
                for ftype in ftypes + (["Q5_K_M", "Q6_K"] if size == "k" and model in BENCH_ARCHS else []):
                    name = f"{model}_{ftype.lower()}"
                    info = write_model(os.path.join(FIXTURES, f"{name}.gguf"), model, size, ftype, seed)
                    info["bytes"] = os.path.getsize(os.path.join(FIXTURES, f"{name}.gguf"))
                    manifest[name] = info
                    print(f"{name}: {info['params']} parameters, {info['bytes']} bytes")
        with open(os.path.join(FIXTURES, "models.json"), "w") as f:
            json.dump(manifest, f, indent=1)
    elif what == "bench":
        os.makedirs(BENCH, exist_ok=True)
        archs = ["llama"] + (["qwen2"] if "--qwen2" in sys.argv else [])
        for arch in archs:
            for size in arg("--sizes", ["15m", "100m", "350m"]):
                for ftype in arg("--types", ["q4_k_m", "q8_0", "f16"]):
                    path = os.path.join(BENCH, f"{arch}-{size}-{ftype}.gguf")
                    info = write_model(path, arch, size, ftype.upper(), 100 + archs.index(arch))
                    print(f"{path}: {info['params'] / 1e6:.1f}M parameters, {os.path.getsize(path) / 2**20:.1f} MiB", flush=True)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
