#!/usr/bin/env python3
"""PyTorch reference fixtures for the simdformer model layer (tests/model/*.test.ts).

Builds small random-weight models with fixed seeds, runs them in float32 and writes one safetensors
file per case under tests/fixtures/torch/: the model's weights (F32, the checkpoint names its config
declares) plus the inputs and expected outputs as extra tensors named "fixture.*"; the config JSON is
in __metadata__["simdformer.config"], token ids and greedy outputs in __metadata__["fixture"].

Cases:
  mha            nn.MultiheadAttention, causal attn_mask + key_padding_mask, per-head probabilities
  encoder_post   nn.TransformerEncoder, post-LN, ReLU, sinusoidal positions, embed x sqrt(d)
  encoder_pre    nn.TransformerEncoder, norm_first, GELU, learned positions, final norm
  transformer    nn.Transformer (post-LN, both final norms), greedy ids
  transformer_pre  TransformerEncoder/Decoder, norm_first, GELU, tied output, no final norms, greedy ids
  gpt2           GPT-2-style decoder, HF names: learned positions, pre-LN, GELU tanh, tied embeddings
  llama          Llama-style decoder, HF names: RMSNorm, RoPE (half split), GQA 4/2, SwiGLU, no biases
  llama_mqa      the same with one kv head (MQA) and interleaved (GPT-J) rotary pairs
  bert           BERT-style encoder, HF names: learned positions + token type 0, embedding LayerNorm, post-LN, GELU

Usage: /usr/bin/python3 tools/torch_fixtures.py
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "torch")


def write_safetensors(path, tensors, metadata):
    """tensors: dict name -> float32 array, stored F32 in insertion order; header padded to 8 bytes."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        b = np.ascontiguousarray(np.asarray(arr, dtype="<f4")).tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(arr)), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def save(name, config, module, expected, fixture):
    """module: its state_dict gives the weights; expected: name -> tensor; fixture: JSON-able dict."""
    tensors = {k: v.detach().float().numpy() for k, v in module.state_dict().items()}
    for k, v in expected.items():
        tensors[f"fixture.{k}"] = v.detach().float().numpy()
    meta = {"simdformer.config": json.dumps(config), "fixture": json.dumps(fixture)}
    path = os.path.join(OUT, f"{name}.safetensors")
    write_safetensors(path, tensors, meta)
    print(f"{name}: {os.path.getsize(path)} bytes")


def sinusoid_table(n_pos, d):
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    angle = pos / np.power(10000.0, np.arange(0, d, 2, dtype=np.float64)[None, :] / d)
    pe = np.zeros((n_pos, d))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle)
    return torch.from_numpy(pe.astype(np.float32))


def pad(seqs, value=0):
    n = max(len(s) for s in seqs)
    return torch.tensor([list(s) + [value] * (n - len(s)) for s in seqs], dtype=torch.long)


def causal_mask(n):
    return torch.triu(torch.full((n, n), float("-inf")), diagonal=1)


def randomize(module, std):
    """Random weights of a readable scale (norm gains around 1, so norms matter)."""
    g = torch.Generator().manual_seed(7)
    for name, p in module.named_parameters():
        with torch.no_grad():
            if name.endswith("bias"):
                p.copy_(torch.randn(p.shape, generator=g) * 0.1)
            elif p.dim() == 1:
                p.copy_(1 + torch.randn(p.shape, generator=g) * 0.2)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * std)


# ------------------------------------------------------------------------------------------------ mha
def case_mha():
    torch.manual_seed(1)
    d, h = 16, 4
    mha = nn.MultiheadAttention(d, h, batch_first=True)
    randomize(mha, 0.3)
    mha.eval()
    x = torch.randn(2, 5, d)
    pad_mask = torch.tensor([[False] * 5, [False, False, False, True, True]])
    out, probs = mha(x, x, x, attn_mask=causal_mask(5), key_padding_mask=pad_mask, need_weights=True,
                     average_attn_weights=False)
    save("mha", {"d_model": d, "n_heads": h}, mha, {"x": x, "out": out, "probs": probs},
         {"key_padding": pad_mask.int().tolist(), "causal": True})


# -------------------------------------------------------------------------------------------- encoders
class Encoder(nn.Module):
    def __init__(self, vocab, d, h, ff, layers, act, norm_first, learned, final_norm, max_pos):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        layer = nn.TransformerEncoderLayer(d, h, ff, 0.0, activation=act, batch_first=True, norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d) if final_norm else None,
                                             enable_nested_tensor=False)
        self.learned = learned
        self.scale = 1.0 if learned else math.sqrt(d)
        if learned:
            self.pos_embed = nn.Embedding(max_pos, d)
        else:
            self.register_buffer("pe", sinusoid_table(max_pos, d), persistent=False)

    def forward(self, ids, pad_mask):
        n = ids.shape[1]
        pos = self.pos_embed.weight[:n] if self.learned else self.pe[:n]
        return self.encoder(self.embed(ids) * self.scale + pos, src_key_padding_mask=pad_mask)


def case_encoder(name, act, norm_first, learned, final_norm, seed):
    torch.manual_seed(seed)
    V, d, h, ff, L, P = 40, 32, 4, 64, 2, 16
    m = Encoder(V, d, h, ff, L, act, norm_first, learned, final_norm, P)
    randomize(m, 0.25)
    m.eval()
    seqs = [[5, 9, 13, 2, 31, 7, 22], [3, 17, 29, 11]]
    ids = pad(seqs)
    with torch.no_grad():
        hidden = m(ids, ids == 0)
    config = {"format": "simdformer", "version": 1, "arch": "encoder", "naming": "torch-transformer",
              "d_model": d, "n_heads": h, "d_ff": ff, "encoder_layers": L, "activation": act,
              "norm_position": "pre" if norm_first else "post", "encoder_final_norm": final_norm,
              "positions": "learned" if learned else "sinusoidal", "embed_scale": not learned,
              "max_positions": P, "vocab_size": V, "lm_head": False}
    save(name, config, m, {"hidden": hidden}, {"seqs": seqs})


# ------------------------------------------------------------------------------------------ enc-dec
class Seq2Seq(nn.Module):
    def __init__(self, sv, tv, d, h, ff, layers, act, norm_first, final_norms, tied, max_pos):
        super().__init__()
        self.src_embed = nn.Embedding(sv, d)
        self.tgt_embed = nn.Embedding(tv, d)
        if final_norms:
            self.transformer = nn.Transformer(d, h, layers, layers, ff, 0.0, activation=act, batch_first=True,
                                              norm_first=norm_first)
        else:
            enc = nn.TransformerEncoderLayer(d, h, ff, 0.0, activation=act, batch_first=True, norm_first=norm_first)
            dec = nn.TransformerDecoderLayer(d, h, ff, 0.0, activation=act, batch_first=True, norm_first=norm_first)
            self.encoder = nn.TransformerEncoder(enc, layers, enable_nested_tensor=False)
            self.decoder = nn.TransformerDecoder(dec, layers)
        self.tied = tied
        if not tied:
            self.generator = nn.Linear(d, tv)
        self.register_buffer("pe", sinusoid_table(max_pos, d), persistent=False)
        self.scale = math.sqrt(d)

    def embed(self, table, ids):
        return table(ids) * self.scale + self.pe[: ids.shape[1]]

    def stacks(self):
        t = getattr(self, "transformer", None)
        return (t.encoder, t.decoder) if t is not None else (self.encoder, self.decoder)

    def encode(self, src, src_pad):
        return self.stacks()[0](self.embed(self.src_embed, src), src_key_padding_mask=src_pad)

    def decode(self, tgt, memory, src_pad, tgt_pad=None):
        n = tgt.shape[1]
        h = self.stacks()[1](self.embed(self.tgt_embed, tgt), memory, tgt_mask=causal_mask(n),
                         tgt_key_padding_mask=tgt_pad, memory_key_padding_mask=src_pad)
        return h @ self.tgt_embed.weight.T if self.tied else self.generator(h)


@torch.no_grad()
def greedy_seq2seq(m, src, max_len, bos=1, eos=2):
    """One sentence, full recompute each step; ids without bos/eos."""
    s = torch.tensor([src])
    memory = m.encode(s, s == 0)
    ys = [bos]
    for _ in range(max_len):
        nxt = int(m.decode(torch.tensor([ys]), memory, s == 0)[0, -1].argmax())
        if nxt == eos:
            break
        ys.append(nxt)
    return ys[1:]


def case_seq2seq(name, act, norm_first, final_norms, tied, seed):
    torch.manual_seed(seed)
    SV, TV, d, h, ff, L, P = 30, 36, 32, 4, 64, 2, 24
    m = Seq2Seq(SV, TV, d, h, ff, L, act, norm_first, final_norms, tied, P)
    randomize(m, 0.25)
    m.eval()
    if final_norms:  # nn.Transformer names its stacks transformer.encoder / transformer.decoder
        sd_prefix = {"encoder": "transformer.encoder", "decoder": "transformer.decoder"}
    else:
        sd_prefix = {}
    src = [[4, 8, 15, 16, 23, 2], [7, 11, 5, 2]]
    tgt = [[1, 6, 9, 12, 20], [1, 30, 4]]
    s, t = pad(src), pad(tgt)
    with torch.no_grad():
        logits = m.decode(t, m.encode(s, s == 0), s == 0, t == 0)
    greedy = [greedy_seq2seq(m, x, 12) for x in src]
    config = {"format": "simdformer", "version": 1, "arch": "encoder-decoder", "naming": "torch-transformer",
              "tensor_names": sd_prefix, "d_model": d, "n_heads": h, "d_ff": ff, "encoder_layers": L,
              "decoder_layers": L, "activation": act, "norm_position": "pre" if norm_first else "post",
              "encoder_final_norm": final_norms, "decoder_final_norm": final_norms, "positions": "sinusoidal",
              "embed_scale": True, "tied_output": tied, "output_bias": not tied, "max_positions": P,
              "src_vocab_size": SV, "tgt_vocab_size": TV, "pad_id": 0, "bos_id": 1, "eos_id": 2, "unk_id": 3,
              "max_target_length": 12}
    expected = {f"logits{i}": logits[i, : len(x)] for i, x in enumerate(tgt)}
    save(name, config, m, expected, {"src": src, "tgt": tgt, "greedy": greedy})


# ---------------------------------------------------------------------------------------------- GPT-2
class Conv1D(nn.Module):
    """HF GPT-2 linear: weight stored [in, out]."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return x @ self.weight + self.bias


class Gpt2Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.ln_1 = nn.LayerNorm(d)
        self.attn = nn.Module()
        self.attn.c_attn = Conv1D(d, 3 * d)
        self.attn.c_proj = Conv1D(d, d)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Module()
        self.mlp.c_fc = Conv1D(d, 4 * d)
        self.mlp.c_proj = Conv1D(4 * d, d)

    def forward(self, x):
        B, T, d = x.shape
        q, k, v = self.attn.c_attn(self.ln_1(x)).split(d, dim=2)
        heads = lambda t: t.view(B, T, self.h, d // self.h).transpose(1, 2)  # noqa: E731
        a = F.softmax(heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(d // self.h) + causal_mask(T), dim=-1)
        x = x + self.attn.c_proj((a @ heads(v)).transpose(1, 2).reshape(B, T, d))
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt2(nn.Module):
    def __init__(self, V, P, d, h, L):
        super().__init__()
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(V, d)
        self.transformer.wpe = nn.Embedding(P, d)
        self.transformer.h = nn.ModuleList([Gpt2Block(d, h) for _ in range(L)])
        self.transformer.ln_f = nn.LayerNorm(d)

    def forward(self, ids):
        t = self.transformer
        x = t.wte(ids) + t.wpe.weight[: ids.shape[1]]
        for b in t.h:
            x = b(x)
        return t.ln_f(x) @ t.wte.weight.T


# ---------------------------------------------------------------------------------------------- Llama
class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def rope_interleaved(x, ang):
    """Pairs (2i, 2i+1) rotated by ang[:, i] (GPT-J, llama.cpp)."""
    cos, sin = ang.cos().float(), ang.sin().float()
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x1 * cos + x0 * sin), dim=-1).flatten(-2)


class LlamaBlock(nn.Module):
    def __init__(self, d, h, kvh, ff, theta, eps, interleaved=False):
        super().__init__()
        self.h, self.kvh, self.hd, self.theta, self.interleaved = h, kvh, d // h, theta, interleaved
        self.self_attn = nn.Module()
        self.self_attn.q_proj = nn.Linear(d, h * self.hd, bias=False)
        self.self_attn.k_proj = nn.Linear(d, kvh * self.hd, bias=False)
        self.self_attn.v_proj = nn.Linear(d, kvh * self.hd, bias=False)
        self.self_attn.o_proj = nn.Linear(h * self.hd, d, bias=False)
        self.mlp = nn.Module()
        self.mlp.gate_proj = nn.Linear(d, ff, bias=False)
        self.mlp.up_proj = nn.Linear(d, ff, bias=False)
        self.mlp.down_proj = nn.Linear(ff, d, bias=False)
        self.input_layernorm = RMSNorm(d, eps)
        self.post_attention_layernorm = RMSNorm(d, eps)

    def forward(self, x):
        B, T, _ = x.shape
        a = self.self_attn
        hx = self.input_layernorm(x)
        q = a.q_proj(hx).view(B, T, self.h, self.hd).transpose(1, 2)
        k = a.k_proj(hx).view(B, T, self.kvh, self.hd).transpose(1, 2)
        v = a.v_proj(hx).view(B, T, self.kvh, self.hd).transpose(1, 2)
        inv = 1.0 / (self.theta ** (torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd))
        ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None, :]
        if self.interleaved:
            q, k = rope_interleaved(q, ang), rope_interleaved(k, ang)
        else:
            emb = torch.cat((ang, ang), dim=-1)
            cos, sin = emb.cos().float(), emb.sin().float()
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        rep = self.h // self.kvh
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = F.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.hd) + causal_mask(T), dim=-1)
        x = x + a.o_proj((att @ v).transpose(1, 2).reshape(B, T, -1))
        hx = self.post_attention_layernorm(x)
        return x + self.mlp.down_proj(F.silu(self.mlp.gate_proj(hx)) * self.mlp.up_proj(hx))


class Llama(nn.Module):
    def __init__(self, V, d, h, kvh, ff, L, theta, eps, interleaved=False):
        super().__init__()
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(V, d)
        self.model.layers = nn.ModuleList([LlamaBlock(d, h, kvh, ff, theta, eps, interleaved) for _ in range(L)])
        self.model.norm = RMSNorm(d, eps)
        self.lm_head = nn.Linear(d, V, bias=False)

    def forward(self, ids):
        x = self.model.embed_tokens(ids)
        for b in self.model.layers:
            x = b(x)
        return self.lm_head(self.model.norm(x))


# ----------------------------------------------------------------------------------------------- BERT
class BertLayer(nn.Module):
    def __init__(self, d, h, ff, eps):
        super().__init__()
        self.h = h
        self.attention = nn.Module()
        self.attention.self = nn.Module()
        self.attention.self.query = nn.Linear(d, d)
        self.attention.self.key = nn.Linear(d, d)
        self.attention.self.value = nn.Linear(d, d)
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(d, d)
        self.attention.output.LayerNorm = nn.LayerNorm(d, eps=eps)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(d, ff)
        self.output = nn.Module()
        self.output.dense = nn.Linear(ff, d)
        self.output.LayerNorm = nn.LayerNorm(d, eps=eps)

    def forward(self, x, mask):
        B, T, d = x.shape
        a = self.attention.self
        heads = lambda t: t.view(B, T, self.h, d // self.h).transpose(1, 2)  # noqa: E731
        p = F.softmax(heads(a.query(x)) @ heads(a.key(x)).transpose(-1, -2) / math.sqrt(d // self.h) + mask, dim=-1)
        ctx = (p @ heads(a.value(x))).transpose(1, 2).reshape(B, T, d)
        x = self.attention.output.LayerNorm(x + self.attention.output.dense(ctx))
        return self.output.LayerNorm(x + self.output.dense(F.gelu(self.intermediate.dense(x))))


class Bert(nn.Module):
    def __init__(self, V, P, d, h, ff, L, eps):
        super().__init__()
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(V, d)
        self.embeddings.position_embeddings = nn.Embedding(P, d)
        self.embeddings.token_type_embeddings = nn.Embedding(2, d)
        self.embeddings.LayerNorm = nn.LayerNorm(d, eps=eps)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList([BertLayer(d, h, ff, eps) for _ in range(L)])

    def forward(self, ids, pad_mask):
        e = self.embeddings
        n = ids.shape[1]
        x = e.word_embeddings(ids) + e.position_embeddings.weight[:n] + e.token_type_embeddings.weight[0]
        x = e.LayerNorm(x)
        mask = torch.zeros(pad_mask.shape).masked_fill(pad_mask, float("-inf"))[:, None, None, :]
        for layer in self.encoder.layer:
            x = layer(x, mask)
        return x


def case_bert():
    torch.manual_seed(8)
    V, P, d, h, ff, L = 40, 16, 32, 4, 64, 2
    m = Bert(V, P, d, h, ff, L, 1e-12)
    randomize(m, 0.25)
    m.eval()
    seqs = [[2, 9, 13, 5, 31, 7, 3], [2, 17, 29, 3]]
    ids = pad(seqs)
    with torch.no_grad():
        hidden = m(ids, ids == 0)
    config = {"format": "simdformer", "version": 1, "arch": "encoder", "naming": "hf-bert", "d_model": d,
              "n_heads": h, "d_ff": ff, "encoder_layers": L, "activation": "gelu", "norm_position": "post",
              "norm_eps": 1e-12, "embed_norm": True, "positions": "learned", "max_positions": P, "vocab_size": V,
              "lm_head": False}
    save("bert", config, m, {"hidden": hidden}, {"seqs": seqs})


@torch.no_grad()
def greedy_decoder(m, prompt, n):
    ids = list(prompt)
    for _ in range(n):
        ids.append(int(m(torch.tensor([ids]))[0, -1].argmax()))
    return ids[len(prompt):]


def case_decoder(name, m, config, seed):
    torch.manual_seed(seed)
    randomize(m, 0.3)
    m.eval()
    prompts = [[3, 14, 15, 9, 26, 5, 35], [8, 9, 7]]
    with torch.no_grad():
        logits = [m(torch.tensor([p]))[0] for p in prompts]
    greedy = [greedy_decoder(m, p, 10) for p in prompts]
    save(name, config, m, {f"logits{i}": l for i, l in enumerate(logits)}, {"prompts": prompts, "greedy": greedy})


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    case_mha()
    case_bert()
    case_encoder("encoder_post", "relu", False, False, False, 2)
    case_encoder("encoder_pre", "gelu", True, True, True, 3)
    case_seq2seq("transformer", "relu", False, True, False, 4)
    case_seq2seq("transformer_pre", "gelu", True, False, True, 5)
    V, P, d, h, L = 48, 32, 32, 4, 2
    case_decoder("gpt2", Gpt2(V, P, d, h, L), {
        "format": "simdformer", "version": 1, "arch": "decoder", "naming": "hf-gpt2", "d_model": d, "n_heads": h,
        "d_ff": 4 * d, "decoder_layers": L, "activation": "gelu_tanh", "norm_position": "pre",
        "decoder_final_norm": True, "positions": "learned", "max_positions": P, "tied_output": True,
        "output_bias": False, "vocab_size": V}, 6)
    case_decoder("llama", Llama(V, d, 4, 2, 48, L, 10000.0, 1e-6), {
        "format": "simdformer", "version": 1, "arch": "decoder", "naming": "hf-llama", "d_model": d, "n_heads": 4,
        "n_kv_heads": 2, "d_ff": 48, "decoder_layers": L, "activation": "swiglu", "norm": "rmsnorm",
        "norm_eps": 1e-6, "norm_position": "pre", "decoder_final_norm": True, "positions": "rotary",
        "rope_theta": 10000.0, "rope_interleaved": False, "max_positions": P, "attention_bias": False,
        "ffn_bias": False, "output_bias": False, "vocab_size": V}, 7)
    case_decoder("llama_mqa", Llama(V, d, 4, 1, 48, L, 500.0, 1e-6, interleaved=True), {
        "format": "simdformer", "version": 1, "arch": "decoder", "naming": "hf-llama", "d_model": d, "n_heads": 4,
        "n_kv_heads": 1, "d_ff": 48, "decoder_layers": L, "activation": "swiglu", "norm": "rmsnorm",
        "norm_eps": 1e-6, "norm_position": "pre", "decoder_final_norm": True, "positions": "rotary",
        "rope_theta": 500.0, "rope_interleaved": True, "max_positions": P, "attention_bias": False,
        "ffn_bias": False, "output_bias": False, "vocab_size": V}, 9)


if __name__ == "__main__":
    main()
