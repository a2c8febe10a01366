#!/usr/bin/env python3
"""Fixtures of the model formats users bring (tests/formats/*.test.ts), all tiny and random.

One Llama-style model (random weights, fixed seed) is written in four files:
  llama/            Hugging Face: config.json, model.safetensors (q/k rows permuted to HF's half-split
                    rotary layout, as convert_llama_weights_to_hf does), tokenizer.json (BPE, byte fallback)
  llama.gguf        GGUF v3, llama.cpp names and metadata, all F32, general.alignment 64, llama tokenizer
                    (SentencePiece-style scores, byte pieces) plus one metadata key of every value type
  llama_q.gguf      the same weights quantized: embedding F16, attention Q8_0, feed-forward Q4_0, output Q8_0
  llama2c/          llama2.c: model.bin (7 int32 header, negative vocab_size: own classifier) + tokenizer.bin
  gpt2_tokenizer.gguf  the GPT-2 fixture's byte-level BPE vocabulary as GGUF tokenizer metadata only
  kquants.gguf      two tensors of random Q4_K / Q6_K super-blocks (reference: ggml's dequantization, in numpy)
GGUF and llama2.c keep the original (adjacent-pair) rotary layout; the three give the same logits.
Plus a GPT-2 (HF names, Conv1D weights, tied embeddings, two shards + index, byte-level BPE
tokenizer.json) and a BERT (HF names, WordPiece tokenizer.json).

reference.safetensors holds torch float32 outputs: llama logits of a prompt and greedy ids, the
llama_q logits (torch on the dequantized weights), gpt2 logits/greedy, bert hidden states; its
__metadata__["fixture"] holds prompts, ids and tokenizer cases encoded by the reference
SentencePiece-BPE encoder below.

Usage: /usr/bin/python3 tools/format_fixtures.py
"""
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_writer  # noqa: E402
from gguf_writer import dequantize, quantize  # noqa: E402
from torch_fixtures import Bert, Gpt2, Llama, randomize, write_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "formats")
SP = "\u2581"

CORPUS = """the cat sat on the mat and the dog sat on the log
a small model reads the text and writes the next word
the quick brown fox jumps over the lazy dog near the river
we like to read books in the library and to walk in the park
numbers such as 12 and 345 appear in the text now and then
the weather is nice today and the sun is warm on the hills"""


# ------------------------------------------------------------------------------------- tokenizers
def bpe_merges(words, n_merges):
    """Greedy BPE: up to n_merges times merge the most frequent adjacent pair (ties: the smallest pair)
    in `words` (symbol tuple -> count); returns the merges in order."""
    merges = []
    for _ in range(n_merges):
        pairs = {}
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + n
        if not pairs:
            break
        best = max(sorted(pairs), key=lambda p: pairs[p])
        merges.append(best)
        new = {}
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + n
        words = new
    return merges


def train_sentencepiece_bpe(text, n_merges):
    """Greedy BPE over words prefixed with the space marker; returns (alphabet, merges in order)."""
    words = {}
    for line in text.split("\n"):
        for w in line.split(" "):
            if w:
                key = tuple(SP + w)
                words[key] = words.get(key, 0) + 1
    alphabet = sorted({c for w in words for c in w})
    return alphabet, bpe_merges(words, n_merges)


def spm_vocab(alphabet, merges):
    """<unk>, <s>, </s>, 256 byte pieces, the alphabet, then merged pieces; scores make earlier merges win."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    scores = [0.0, 0.0, 0.0] + [0.0] * 256
    types = [2, 3, 3] + [6] * 256
    for i, c in enumerate(alphabet):
        tokens.append(c)
        scores.append(-1000.0 - i)
        types.append(1)
    for i, (a, b) in enumerate(merges):
        if a + b in tokens:
            continue
        tokens.append(a + b)
        scores.append(-float(i))
        types.append(1)
    return tokens, scores, types


def spm_encode(text, tokens, scores):
    """Reference SentencePiece-BPE: prefix space, merge the best-scoring adjacent pair (leftmost on ties), byte fallback."""
    if not text:
        return []
    index = {}
    for i, t in enumerate(tokens):
        if i >= 3 and not (t.startswith("<0x") and len(t) == 6):
            index.setdefault(t, i)
    syms = list((" " + text).replace(" ", SP))
    while True:
        best, at = None, -1
        for i in range(len(syms) - 1):
            j = index.get(syms[i] + syms[i + 1])
            if j is not None and (best is None or scores[j] > best):
                best, at = scores[j], i
        if at < 0:
            break
        syms[at: at + 2] = [syms[at] + syms[at + 1]]
    ids = []
    for s in syms:
        if s in index:
            ids.append(index[s])
        else:
            ids.extend(3 + b for b in s.encode("utf-8"))
    return ids


def hf_llama_tokenizer_json(tokens, merges):
    vocab = {t: i for i, t in enumerate(tokens)}
    return {
        "version": "1.0",
        "added_tokens": [
            {"id": i, "content": tokens[i], "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
             "special": True} for i in range(3)],
        "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": SP},
                                                            {"type": "Replace", "pattern": {"String": " "}, "content": SP}]},
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SP}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges if a + b in vocab]},
    }


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def gpt2_vocab(text, n_merges):
    """Byte-level BPE trained on space-prefixed words; <|endoftext|> last."""
    b2u = bytes_to_unicode()
    words = {}
    for line in text.split("\n"):
        for k, w in enumerate(line.split(" ")):
            key = tuple(b2u[b] for b in ((" " if k else "") + w).encode("utf-8"))
            words[key] = words.get(key, 0) + 1
    tokens = [b2u[b] for b in range(256)]
    merges = bpe_merges(words, n_merges)
    tokens += [a + b for a, b in merges]
    tokens.append("<|endoftext|>")
    return tokens, merges


def gpt2_tokenizer_json(tokens, merges):
    eot = len(tokens) - 1
    return {
        "version": "1.0",
        "added_tokens": [{"id": eot, "content": "<|endoftext|>", "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
                  "fuse_unk": False, "byte_fallback": False, "vocab": {t: i for i, t in enumerate(tokens)},
                  "merges": [f"{a} {b}" for a, b in merges]},
    }


def wordpiece_tokenizer_json():
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "the", "cat", "sat", "on", "mat", "dog", "s", "##s", "##at", "c", "m",
             "d", "##og", "a", "##nd", "and", ".", ",", "!", "read", "##ing", "book", "walk", "park", "in", "river"]
    while len(words) < 40:
        words.append(f"[unused{len(words)}]")
    return words, {
        "version": "1.0",
        "added_tokens": [{"id": i, "content": w, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
                          "special": True} for i, w in enumerate(words[:4])],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None,
                       "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": None,
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                  "vocab": {w: i for i, w in enumerate(words)}},
    }


# ------------------------------------------------------------------------------------------- GGUF
def kquant_blocks(rng, kind, n_blocks):
    """Random but well-formed super-blocks: every bit pattern of the quants and scales, moderate f16 scales."""
    size = 144 if kind == "Q4_K" else 210
    raw = rng.integers(0, 256, size=(n_blocks, size), dtype=np.uint8)
    scales = rng.uniform(0.001, 0.02, size=(n_blocks, 2)).astype(np.float16).view(np.uint8)
    if kind == "Q4_K":
        raw[:, 0:4] = scales
    else:
        raw[:, 208:210] = scales[:, 0:2]
    return raw


def write_gguf(path, kvs, tensors, alignment=32):
    """tensors: (name, torch-order float array, ggml type) or (name, raw blocks, ggml type, shape).
    Returns name -> the float32 values a reader must see (dequantized; None for raw blocks)."""
    out, seen = [], {}
    for name, arr, kind, *shape in tensors:
        if shape:
            out.append((name, kind, shape[0], np.asarray(arr, dtype=np.uint8).tobytes()))
            seen[name] = None
        else:
            arr = np.asarray(arr, dtype=np.float32)
            data, seen[name] = quantize(kind, arr)
            out.append((name, kind, arr.shape, data))
    gguf_writer.write_gguf(path, kvs, out, alignment)
    return seen


# ------------------------------------------------------------------------------------------- model
def hf_permute(w, n_heads):
    """Adjacent-pair rotary rows -> HF half-split rows (convert_llama_weights_to_hf's permute)."""
    dim1, dim2 = w.shape
    return w.reshape(n_heads, dim1 // n_heads // 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2)


@torch.no_grad()
def greedy(m, prompt, n):
    ids = list(prompt)
    for _ in range(n):
        ids.append(int(m(torch.tensor([ids]))[0, -1].argmax()))
    return ids[len(prompt):]


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for sub in ["llama", "llama2c", "gpt2", "bert"]:
        os.makedirs(os.path.join(OUT, sub), exist_ok=True)
    ref, fixture = {}, {}

    # ---- tokenizer
    alphabet, merges = train_sentencepiece_bpe(CORPUS, 60)
    tokens, scores, types = spm_vocab(alphabet, merges)
    V = len(tokens)
    texts = ["the cat sat on the mat", "The Quick brown fox!", "numbers 12345 and 6789", "  two  spaces ",
             "naïve café", "日本語 🍕 ok", "tab\tand\nnewline", "a"]
    fixture["spm_cases"] = [{"text": t, "ids": spm_encode(t, tokens, scores)} for t in texts]

    # ---- the Llama-style model (adjacent-pair rotary layout: GGUF / llama2.c / Meta)
    d, H, KV, FF, L, P = 32, 4, 2, 64, 2, 32
    m = Llama(V, d, H, KV, FF, L, 10000.0, 1e-5, interleaved=True)
    randomize(m, 0.3)
    m.eval()
    sd = {k: v.detach().float().numpy() for k, v in m.state_dict().items()}
    prompt = [1] + spm_encode("the cat sat on", tokens, scores)
    with torch.no_grad():
        ref["llama.logits"] = m(torch.tensor([prompt]))[0].numpy()
    fixture["llama"] = {"prompt": prompt, "greedy": greedy(m, prompt, 12)}

    # Hugging Face: q/k permuted to the half-split layout, config.json, tokenizer.json.
    hf = dict(sd)
    for i in range(L):
        hf[f"model.layers.{i}.self_attn.q_proj.weight"] = hf_permute(torch.from_numpy(sd[f"model.layers.{i}.self_attn.q_proj.weight"]), H).numpy()
        hf[f"model.layers.{i}.self_attn.k_proj.weight"] = hf_permute(torch.from_numpy(sd[f"model.layers.{i}.self_attn.k_proj.weight"]), KV).numpy()
    write_safetensors(os.path.join(OUT, "llama", "model.safetensors"), hf, {"format": "pt"})
    with open(os.path.join(OUT, "llama", "config.json"), "w") as f:
        json.dump({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": d, "intermediate_size": FF,
                   "num_attention_heads": H, "num_key_value_heads": KV, "num_hidden_layers": L, "rms_norm_eps": 1e-5,
                   "rope_theta": 10000.0, "rope_scaling": None, "max_position_embeddings": P, "vocab_size": V,
                   "tie_word_embeddings": False, "hidden_act": "silu", "attention_bias": False, "bos_token_id": 1,
                   "eos_token_id": 2, "torch_dtype": "float32"}, f, indent=1)
    with open(os.path.join(OUT, "llama", "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(hf_llama_tokenizer_json(tokens, merges), f, ensure_ascii=False)

    # GGUF: llama.cpp names, torch-order arrays written with reversed dims.
    def gguf_tensors(qtypes):
        names = [("token_embd.weight", "model.embed_tokens.weight", "embed")]
        for i in range(L):
            for g, h, kind in [("attn_norm", "input_layernorm", "norm"), ("attn_q", "self_attn.q_proj", "attn"),
                               ("attn_k", "self_attn.k_proj", "attn"), ("attn_v", "self_attn.v_proj", "attn"),
                               ("attn_output", "self_attn.o_proj", "attn"), ("ffn_norm", "post_attention_layernorm", "norm"),
                               ("ffn_gate", "mlp.gate_proj", "ffn"), ("ffn_up", "mlp.up_proj", "ffn"),
                               ("ffn_down", "mlp.down_proj", "ffn")]:
                names.append((f"blk.{i}.{g}.weight", f"model.layers.{i}.{h}.weight", kind))
        names += [("output_norm.weight", "model.norm.weight", "norm"), ("output.weight", "lm_head.weight", "output")]
        return [(g, sd[h], qtypes[kind]) for g, h, kind in names], {g: h for g, h, _ in names}

    kvs = [("general.architecture", "str", "llama"), ("general.name", "str", "simdformer format fixture"),
           ("general.alignment", "u32", 64),
           ("llama.context_length", "u32", P), ("llama.embedding_length", "u32", d), ("llama.block_count", "u32", L),
           ("llama.feed_forward_length", "u32", FF), ("llama.attention.head_count", "u32", H),
           ("llama.attention.head_count_kv", "u32", KV), ("llama.attention.layer_norm_rms_epsilon", "f32", 1e-5),
           ("llama.rope.freq_base", "f32", 10000.0), ("llama.rope.dimension_count", "u32", d // H),
           ("tokenizer.ggml.model", "str", "llama"), ("tokenizer.ggml.tokens", ("arr", "str"), tokens),
           ("tokenizer.ggml.scores", ("arr", "f32"), scores), ("tokenizer.ggml.token_type", ("arr", "i32"), types),
           ("tokenizer.ggml.bos_token_id", "u32", 1), ("tokenizer.ggml.eos_token_id", "u32", 2),
           ("tokenizer.ggml.unknown_token_id", "u32", 0), ("tokenizer.ggml.add_bos_token", "bool", True),
           # one key of every remaining value type (the reader must skip or keep them all)
           ("simdformer.test.u8", "u8", 200), ("simdformer.test.i8", "i8", -100), ("simdformer.test.u16", "u16", 60000),
           ("simdformer.test.i16", "i16", -30000), ("simdformer.test.i32", "i32", -2000000000),
           ("simdformer.test.u64", "u64", 2 ** 53 + 2), ("simdformer.test.i64", "i64", -(2 ** 40)),
           ("simdformer.test.f64", "f64", 0.1), ("simdformer.test.nested", ("arr", ("arr", "u16")), [[1, 2], [], [3]])]
    f32_tensors, _ = gguf_tensors({"embed": "F32", "norm": "F32", "attn": "F32", "ffn": "F32", "output": "F32"})
    write_gguf(os.path.join(OUT, "llama.gguf"), kvs, f32_tensors, alignment=64)
    q_tensors, g2h = gguf_tensors({"embed": "F16", "norm": "F32", "attn": "Q8_0", "ffn": "Q4_0", "output": "Q8_0"})
    q_kvs = [kv for kv in kvs if not kv[0].startswith("simdformer.") and kv[0] != "general.alignment"]
    deq = write_gguf(os.path.join(OUT, "llama_q.gguf"), q_kvs, q_tensors)
    mq = Llama(V, d, H, KV, FF, L, 10000.0, 1e-5, interleaved=True)
    mq.load_state_dict({g2h[g]: torch.from_numpy(np.ascontiguousarray(v)) for g, v in deq.items()})
    mq.eval()
    with torch.no_grad():
        ref["llama_q.logits"] = mq(torch.tensor([prompt]))[0].numpy()
    fixture["llama_q"] = {"prompt": prompt}

    # llama2.c: header (negative vocab: own classifier), weights stacked per kind in run.c's order.
    hd = d // H
    with open(os.path.join(OUT, "llama2c", "model.bin"), "wb") as f:
        f.write(struct.pack("<7i", d, FF, L, H, KV, -V, P))
        stack = lambda part: np.stack([sd[f"model.layers.{i}.{part}.weight"] for i in range(L)])  # noqa: E731
        parts = [sd["model.embed_tokens.weight"], stack("input_layernorm"), stack("self_attn.q_proj"),
                 stack("self_attn.k_proj"), stack("self_attn.v_proj"), stack("self_attn.o_proj"),
                 stack("post_attention_layernorm"), stack("mlp.gate_proj"), stack("mlp.down_proj"), stack("mlp.up_proj"),
                 sd["model.norm.weight"]]
        freqs = np.arange(P)[:, None] * (1.0 / 10000.0 ** (np.arange(0, hd, 2) / hd))[None, :]
        parts += [np.cos(freqs), np.sin(freqs), sd["lm_head.weight"]]
        for p in parts:
            f.write(np.ascontiguousarray(p, dtype="<f4").tobytes())
    with open(os.path.join(OUT, "llama2c", "tokenizer.bin"), "wb") as f:
        pieces = [t.replace(SP, " ").encode("utf-8") for t in tokens]
        pieces[1], pieces[2] = b"\n<s>\n", b"\n</s>\n"
        f.write(struct.pack("<i", max(len(p) for p in pieces)))
        for s, p in zip(scores, pieces):
            f.write(struct.pack("<fi", s, len(p)) + p)

    # ---- GPT-2 (HF names, Conv1D, tied), two shards + index, byte-level BPE tokenizer.json
    gtokens, gmerges = gpt2_vocab(CORPUS, 40)
    GV = len(gtokens)
    torch.manual_seed(1)
    g = Gpt2(GV, P, d, H, L)
    randomize(g, 0.3)
    g.eval()
    gsd = {k: v.detach().float().numpy() for k, v in g.state_dict().items()}
    names = list(gsd)
    half = len(names) // 2
    shards = {"model-00001-of-00002.safetensors": names[:half], "model-00002-of-00002.safetensors": names[half:]}
    for fname, ns in shards.items():
        write_safetensors(os.path.join(OUT, "gpt2", fname), {n: gsd[n] for n in ns}, {"format": "pt"})
    with open(os.path.join(OUT, "gpt2", "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": sum(v.nbytes for v in gsd.values())},
                   "weight_map": {n: fname for fname, ns in shards.items() for n in ns}}, f, indent=1)
    with open(os.path.join(OUT, "gpt2", "config.json"), "w") as f:
        json.dump({"model_type": "gpt2", "n_embd": d, "n_head": H, "n_layer": L, "n_positions": P, "n_inner": None,
                   "vocab_size": GV, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5,
                   "tie_word_embeddings": True, "bos_token_id": GV - 1, "eos_token_id": GV - 1}, f, indent=1)
    with open(os.path.join(OUT, "gpt2", "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(gpt2_tokenizer_json(gtokens, gmerges), f, ensure_ascii=False)
    # The same vocabulary as GGUF tokenizer metadata (tokenizer.ggml.model "gpt2"), no tensors.
    write_gguf(os.path.join(OUT, "gpt2_tokenizer.gguf"), [
        ("tokenizer.ggml.model", "str", "gpt2"), ("tokenizer.ggml.tokens", ("arr", "str"), gtokens),
        ("tokenizer.ggml.merges", ("arr", "str"), [f"{a} {b}" for a, b in gmerges]),
        ("tokenizer.ggml.token_type", ("arr", "i32"), [1] * (GV - 1) + [3]),
        ("tokenizer.ggml.bos_token_id", "u32", GV - 1), ("tokenizer.ggml.eos_token_id", "u32", GV - 1)], [])
    # k-quant super-blocks (dequantized at load): random blocks and ggml's dequantization of them.
    krng = np.random.default_rng(3)
    q4k, q6k = kquant_blocks(krng, "Q4_K", 4), kquant_blocks(krng, "Q6_K", 4)
    write_gguf(os.path.join(OUT, "kquants.gguf"), [("general.architecture", "str", "none")],
               [("q4_k", q4k, "Q4_K", (2, 512)), ("q6_k", q6k, "Q6_K", (4, 256))])
    ref["kquants.q4_k"] = dequantize("Q4_K", q4k).reshape(2, 512)
    ref["kquants.q6_k"] = dequantize("Q6_K", q6k).reshape(4, 256)

    gprompt = [5, 40, 41, 260, 270, 7]
    with torch.no_grad():
        ref["gpt2.logits"] = g(torch.tensor([gprompt]))[0].numpy()
    fixture["gpt2"] = {"prompt": gprompt, "greedy": greedy(g, gprompt, 10)}

    # ---- BERT (HF names under "bert."), WordPiece tokenizer.json
    words, wp = wordpiece_tokenizer_json()
    torch.manual_seed(2)
    b = Bert(len(words), 16, d, H, 64, L, 1e-12)
    randomize(b, 0.25)
    b.eval()
    bsd = {f"bert.{k}": v.detach().float().numpy() for k, v in b.state_dict().items()}
    write_safetensors(os.path.join(OUT, "bert", "model.safetensors"), bsd, {"format": "pt"})
    with open(os.path.join(OUT, "bert", "config.json"), "w") as f:
        json.dump({"model_type": "bert", "hidden_size": d, "num_attention_heads": H, "num_hidden_layers": L,
                   "intermediate_size": 64, "hidden_act": "gelu", "layer_norm_eps": 1e-12, "max_position_embeddings": 16,
                   "vocab_size": len(words), "type_vocab_size": 2, "position_embedding_type": "absolute",
                   "pad_token_id": 0}, f, indent=1)
    with open(os.path.join(OUT, "bert", "tokenizer.json"), "w") as f:
        json.dump(wp, f)
    bseq = [2, 4, 5, 6, 7, 4, 8, 3]
    with torch.no_grad():
        ref["bert.hidden"] = b(torch.tensor([bseq]), torch.tensor([[False] * len(bseq)]))[0].numpy()
    fixture["bert"] = {"ids": bseq}

    write_safetensors(os.path.join(OUT, "reference.safetensors"), ref, {"fixture": json.dumps(fixture, ensure_ascii=False)})
    total = 0
    for dirpath, _, files in os.walk(OUT):
        for fn in files:
            total += os.path.getsize(os.path.join(dirpath, fn))
    print(f"vocab {V} (spm), {GV} (gpt2); fixtures {total} bytes")


if __name__ == "__main__":
    main()
