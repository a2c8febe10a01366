#!/usr/bin/env python3
"""A Llama-style GGUF whose weights are k-quant super-blocks as llama.cpp's Q4_K_M mix writes them
(tests/formats/gguf_kquant_model.test.ts), and torch's logits on its dequantized weights.

  kquant_llama.gguf          d 256, 2 layers, 4 heads (2 kv), ffn 256, vocab 256. Embedding Q4_K,
                             q/k/o/gate/up Q4_K, v and ffn_down Q6_K (layer 0) / Q5_K (layer 1),
                             output Q6_K, norms F32. Every weight is random super-block bytes (all
                             quant and 6-bit scale patterns) with f16 scales picked for weights
                             around +-0.1; dmin ~ d x (levels - 1) / 2 keeps them near zero-mean.
  kquant_llama.safetensors   "logits": torch float32 on the dequantized weights (ggml's formulas,
                             below), "q5_k": blk.1.attn_k dequantized (a Q5_K reference to the bit),
                             __metadata__ "prompt".

Usage: /usr/bin/python3 tools/kquant_fixtures.py
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from format_fixtures import OUT, write_gguf  # noqa: E402
from gguf_writer import dequantize  # noqa: E402
from torch_fixtures import Llama, write_safetensors  # noqa: E402

BYTES = {"Q4_K": 144, "Q5_K": 176, "Q6_K": 210}


def blocks(rng, kind, rows, cols):
    """Random super-blocks for a rows x cols weight with values around +-0.1."""
    raw = rng.integers(0, 256, size=(rows * cols // 256, BYTES[kind]), dtype=np.uint8)
    n = len(raw)
    if kind == "Q6_K":  # d sc (q - 32), sc int8: |w| <= d 128 32
        raw[:, 208:210] = rng.uniform(1.5e-5, 3e-5, size=(n, 1)).astype(np.float16).view(np.uint8)
    else:  # d sc q - dmin m, sc, m 0..63; q 0..15 (Q4_K) or 0..31 (Q5_K)
        levels = 16 if kind == "Q4_K" else 32
        d = rng.uniform(1.5e-4, 3e-4, size=n) * 16 / levels
        raw[:, 0:4] = np.stack([d, d * (levels - 1) / 2], axis=1).astype(np.float16).view(np.uint8)
    return raw


def main():
    V, d, H, KV, FF, L, P = 256, 256, 4, 2, 256, 2, 64
    rng = np.random.default_rng(21)
    m = Llama(V, d, H, KV, FF, L, 10000.0, 1e-5, interleaved=True)
    m.eval()
    kinds = {"token_embd": "Q4_K", "output": "Q6_K"}
    for i in range(L):
        for g in ["attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"]:
            kinds[f"blk.{i}.{g}"] = "Q4_K"
        for g in ["attn_v", "ffn_down"]:
            kinds[f"blk.{i}.{g}"] = "Q6_K" if i == 0 else "Q5_K"
    kinds["blk.1.attn_k"] = "Q5_K"
    hf = {"token_embd": "model.embed_tokens", "output": "lm_head", "output_norm": "model.norm"}
    for i in range(L):
        for g, h in [("attn_norm", "input_layernorm"), ("attn_q", "self_attn.q_proj"), ("attn_k", "self_attn.k_proj"),
                     ("attn_v", "self_attn.v_proj"), ("attn_output", "self_attn.o_proj"), ("ffn_norm", "post_attention_layernorm"),
                     ("ffn_gate", "mlp.gate_proj"), ("ffn_up", "mlp.up_proj"), ("ffn_down", "mlp.down_proj")]:
            hf[f"blk.{i}.{g}"] = f"model.layers.{i}.{h}"
    sd = m.state_dict()
    tensors, deq = [], {}
    for g, h in hf.items():
        shape = tuple(sd[f"{h}.weight"].shape)
        if g in kinds:
            raw = blocks(rng, kinds[g], *shape)
            deq[g] = dequantize(kinds[g], raw).reshape(shape)
            tensors.append((f"{g}.weight", raw, kinds[g], shape))
        else:
            deq[g] = rng.uniform(0.8, 1.2, size=shape).astype(np.float32)
            tensors.append((f"{g}.weight", deq[g], "F32"))
    m.load_state_dict({f"{h}.weight": torch.from_numpy(np.ascontiguousarray(deq[g])) for g, h in hf.items()})
    kvs = [("general.architecture", "str", "llama"), ("general.name", "str", "simdformer k-quant fixture"),
           ("general.file_type", "u32", 15),  # LLAMA_FTYPE_MOSTLY_Q4_K_M
           ("llama.context_length", "u32", P), ("llama.embedding_length", "u32", d), ("llama.block_count", "u32", L),
           ("llama.feed_forward_length", "u32", FF), ("llama.attention.head_count", "u32", H),
           ("llama.attention.head_count_kv", "u32", KV), ("llama.attention.layer_norm_rms_epsilon", "f32", 1e-5),
           ("llama.rope.freq_base", "f32", 10000.0), ("llama.rope.dimension_count", "u32", d // H)]
    write_gguf(os.path.join(OUT, "kquant_llama.gguf"), kvs, tensors)
    prompt = [1, 17, 200, 3, 99, 42, 255, 0]
    with torch.no_grad():
        logits = m(torch.tensor([prompt]))[0].numpy()
    write_safetensors(os.path.join(OUT, "kquant_llama.safetensors"), {"logits": logits, "q5_k": deq["blk.1.attn_k"]},
                      {"prompt": json.dumps(prompt)})
    print("logits max |x|", float(np.abs(logits).max()), "std", float(logits.std()))


if __name__ == "__main__":
    main()
