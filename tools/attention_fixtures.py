#!/usr/bin/env python3
"""PyTorch reference fixtures for the attention scoring functions and attention capture
(tests/model/attention_scores.test.ts). Fixed seeds; writes tests/fixtures/attention/*.safetensors.

Scoring functions (per head, q and k of head_dim floats):
  scaled_dot  q.k / sqrt(head_dim)
  dot         q.k
  general     q^T W k                     score.w   [heads, head_dim, head_dim]
  additive    v^T tanh(W_q q + W_k k)     score.w_q, score.w_k [heads, dim, head_dim], score.v [heads, dim]

Cases:
  scores_<kind>   one multi-head attention block (3 heads of 5, additive dim 6), torch-transformer names
                  (in_proj_weight [q;k;v], out_proj, score.*): self-attention with a causal mask and key
                  padding over a ragged batch (7 and 4 tokens), cross-attention of 4 and 3 queries over 6 and
                  5 memory rows with key padding. Expected outputs and per-head probabilities.
  model_<kind>    encoder-decoder (post-LN, 2+2 layers, d 18, 3 heads) whose every attention block scores
                  with <kind> (additive, general): logits of a ragged batch, every attention probability
                  (encoder self, decoder causal self, cross), greedy ids.
  capture         a plain nn.TransformerEncoder/Decoder seq2seq: every nn.MultiheadAttention run with
                  need_weights=True, average_attn_weights=False (the per-head probabilities) on a ragged batch.

The references are computed in float64 (nn modules cast with .double()) and stored as float32.
Usage: /usr/bin/python3 tools/attention_fixtures.py
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_fixtures import Seq2Seq, causal_mask, pad, randomize, sinusoid_table, write_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "attention")
KINDS = ["scaled_dot", "dot", "general", "additive"]


class ScoredAttention(nn.Module):
    """Multi-head attention with a choice of scoring function; nn.MultiheadAttention's tensor names."""

    def __init__(self, d, heads, kind, dim):
        super().__init__()
        self.h, self.hd, self.kind = heads, d // heads, kind
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d, d))
        self.in_proj_bias = nn.Parameter(torch.empty(3 * d))
        self.out_proj = nn.Linear(d, d)
        self.score = nn.Module()
        if kind == "general":
            self.score.w = nn.Parameter(torch.empty(heads, self.hd, self.hd))
        if kind == "additive":
            self.score.w_q = nn.Parameter(torch.empty(heads, dim, self.hd))
            self.score.w_k = nn.Parameter(torch.empty(heads, dim, self.hd))
            self.score.v = nn.Parameter(torch.empty(heads, dim))

    def forward(self, xq, xkv, attn_mask=None, key_padding_mask=None):
        """Returns (out, probs [batch, heads, queries, keys])."""
        d = xq.shape[-1]
        wq, wk, wv = self.in_proj_weight.split(d)
        bq, bk, bv = self.in_proj_bias.split(d)
        heads = lambda t: t.view(t.shape[0], t.shape[1], self.h, self.hd).transpose(1, 2)  # noqa: E731
        q, k, v = heads(F.linear(xq, wq, bq)), heads(F.linear(xkv, wk, bk)), heads(F.linear(xkv, wv, bv))
        if self.kind == "scaled_dot":
            s = q @ k.transpose(-1, -2) / math.sqrt(self.hd)
        elif self.kind == "dot":
            s = q @ k.transpose(-1, -2)
        elif self.kind == "general":
            s = torch.einsum("bhqx,hxy,bhky->bhqk", q, self.score.w, k)
        else:
            qa = torch.einsum("bhqd,had->bhqa", q, self.score.w_q)
            ka = torch.einsum("bhkd,had->bhka", k, self.score.w_k)
            s = torch.einsum("bhqka,ha->bhqk", torch.tanh(qa[:, :, :, None, :] + ka[:, :, None, :, :]), self.score.v)
        if attn_mask is not None:
            s = s + attn_mask
        if key_padding_mask is not None:
            s = s.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
        p = torch.softmax(s, dim=-1)
        out = (p @ v).transpose(1, 2).reshape(xq.shape[0], xq.shape[1], d)
        return self.out_proj(out), p


def tensors_of(module):
    return {k: v.detach().float().numpy() for k, v in module.state_dict().items()}


def write(name, tensors, config, fixture):
    os.makedirs(OUT, exist_ok=True)
    meta = {"fixture": json.dumps(fixture)}
    if config is not None:
        meta["simdformer.config"] = json.dumps(config)
    path = os.path.join(OUT, f"{name}.safetensors")
    write_safetensors(path, tensors, meta)
    print(f"{name}: {os.path.getsize(path)} bytes")


def key_padding(lengths, n):
    return torch.tensor([[j >= L for j in range(n)] for L in lengths])


# --------------------------------------------------------------------------------------- one block
def case_scores(kind, seed):
    torch.manual_seed(seed)
    d, heads, dim = 15, 3, 6
    m = ScoredAttention(d, heads, kind, dim)
    randomize(m, 0.35)
    m.double().eval()
    T, lens = 7, [7, 4]
    x = torch.randn(2, T, d, dtype=torch.float64)
    self_out, self_p = m(x, x, causal_mask(T).double(), key_padding(lens, T))
    qlens, mlens = [4, 3], [6, 5]
    xq = torch.randn(2, 4, d, dtype=torch.float64)
    mem = torch.randn(2, 6, d, dtype=torch.float64)
    cross_out, cross_p = m(xq, mem, None, key_padding(mlens, 6))
    t = tensors_of(m)
    for name, v in {"x": x, "self_out": self_out, "self_probs": self_p, "xq": xq, "memory": mem,
                    "cross_out": cross_out, "cross_probs": cross_p}.items():
        t[f"fixture.{name}"] = v.detach().float().numpy()
    write(f"scores_{kind}", t, None, {"kind": kind, "d": d, "heads": heads, "dim": dim, "self_lengths": lens,
                                      "query_lengths": qlens, "memory_lengths": mlens})


# ------------------------------------------------------------------------------------------- models
class Block(nn.Module):
    """Post-LN block with nn.TransformerEncoderLayer/DecoderLayer names, ReLU feed-forward."""

    def __init__(self, d, heads, ff, kind, dim, cross):
        super().__init__()
        self.self_attn = ScoredAttention(d, heads, kind, dim)
        if cross:
            self.multihead_attn = ScoredAttention(d, heads, kind, dim)
        self.linear1, self.linear2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        if cross:
            self.norm3 = nn.LayerNorm(d)

    def forward(self, x, mask, pad_mask, record, memory=None, mem_pad=None):
        a, p = self.self_attn(x, x, mask, pad_mask)
        record.append(p)
        x = self.norm1(x + a)
        if memory is None:
            return self.norm2(x + self.linear2(F.relu(self.linear1(x))))
        a, p = self.multihead_attn(x, memory, None, mem_pad)
        record.append(p)
        x = self.norm2(x + a)
        return self.norm3(x + self.linear2(F.relu(self.linear1(x))))


class ScoredSeq2Seq(nn.Module):
    def __init__(self, sv, tv, d, heads, ff, layers, kind, dim, max_pos):
        super().__init__()
        self.src_embed, self.tgt_embed = nn.Embedding(sv, d), nn.Embedding(tv, d)
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList([Block(d, heads, ff, kind, dim, False) for _ in range(layers)])
        self.decoder = nn.Module()
        self.decoder.layers = nn.ModuleList([Block(d, heads, ff, kind, dim, True) for _ in range(layers)])
        self.generator = nn.Linear(d, tv)
        self.register_buffer("pe", sinusoid_table(max_pos, d), persistent=False)
        self.scale = math.sqrt(d)

    def forward(self, src, tgt):
        """Returns logits and the probabilities: encoder self per layer, then (self, cross) per decoder layer."""
        sp, tp = src == 0, tgt == 0
        enc, dec = [], []
        x = self.src_embed(src) * self.scale + self.pe[: src.shape[1]]
        for layer in self.encoder.layers:
            x = layer(x, None, sp, enc)
        y = self.tgt_embed(tgt) * self.scale + self.pe[: tgt.shape[1]]
        for layer in self.decoder.layers:
            y = layer(y, causal_mask(tgt.shape[1]).to(y.dtype), tp, dec, x, sp)
        return self.generator(y), enc, dec


def greedy(m, src, max_len, bos=1, eos=2):
    ys = [bos]
    s = torch.tensor([src])
    for _ in range(max_len):
        nxt = int(m(s, torch.tensor([ys]))[0][0, -1].argmax())
        if nxt == eos:
            break
        ys.append(nxt)
    return ys[1:]


def seq2seq_config(d, heads, ff, layers, sv, tv, max_pos, extra):
    c = {"format": "simdformer", "version": 1, "arch": "encoder-decoder", "naming": "torch-transformer",
         "d_model": d, "n_heads": heads, "d_ff": ff, "encoder_layers": layers, "decoder_layers": layers,
         "activation": "relu", "norm_position": "post", "encoder_final_norm": False, "decoder_final_norm": False,
         "positions": "sinusoidal", "embed_scale": True, "max_positions": max_pos, "src_vocab_size": sv,
         "tgt_vocab_size": tv, "pad_id": 0, "bos_id": 1, "eos_id": 2, "unk_id": 3, "max_target_length": 10}
    c.update(extra)
    return c


SRC = [[4, 8, 15, 16, 23, 2], [7, 11, 5, 2]]
TGT = [[1, 6, 9, 12, 20], [1, 30, 4]]


def probs_tensors(t, prefix, probs):
    for i, p in enumerate(probs):
        t[f"fixture.{prefix}{i}"] = p.detach().float().numpy()


def case_model(kind, seed):
    torch.manual_seed(seed)
    SV, TV, d, heads, ff, L, P, dim = 30, 36, 18, 3, 40, 2, 24, 5
    m = ScoredSeq2Seq(SV, TV, d, heads, ff, L, kind, dim, P)
    randomize(m, 0.3)
    m.double().eval()
    with torch.no_grad():
        logits, enc, dec = m(pad(SRC), pad(TGT))
        ids = [greedy(m, s, 10) for s in SRC]
    t = tensors_of(m)
    for i, x in enumerate(TGT):
        t[f"fixture.logits{i}"] = logits[i, : len(x)].float().numpy()
    probs_tensors(t, "enc_self", enc)
    probs_tensors(t, "dec_self", dec[0::2])
    probs_tensors(t, "cross", dec[1::2])
    extra = {"attention_score": kind, "attention_score_dim": dim}
    write(f"model_{kind}", t, seq2seq_config(d, heads, ff, L, SV, TV, P, extra), {"src": SRC, "tgt": TGT, "greedy": ids})


# ------------------------------------------------------------------------------------------ capture
def case_capture(seed):
    torch.manual_seed(seed)
    SV, TV, d, heads, ff, L, P = 30, 36, 24, 4, 48, 2, 24
    m = Seq2Seq(SV, TV, d, heads, ff, L, "relu", False, False, False, P)
    randomize(m, 0.3)
    m.double().eval()
    records = []
    for mod in m.modules():
        if isinstance(mod, nn.MultiheadAttention):
            def run(*args, _f=mod.forward, **kw):
                # The layers ask for need_weights=False; the fixture wants every head's probabilities.
                kw["need_weights"], kw["average_attn_weights"] = True, False
                out, w = _f(*args, **kw)
                records.append(w)
                return out, w
            mod.forward = run
    # Grad enabled: the encoder layers' inference fast path (which skips MultiheadAttention.forward) stays off.
    s, tg = pad(SRC), pad(TGT)
    logits = m.decode(tg, m.encode(s, s == 0), s == 0, tg == 0)
    t = tensors_of(m)
    enc, dec = records[:L], records[L:]
    probs_tensors(t, "enc_self", enc)
    probs_tensors(t, "dec_self", dec[0::2])
    probs_tensors(t, "cross", dec[1::2])
    for i, x in enumerate(TGT):
        t[f"fixture.logits{i}"] = logits[i, : len(x)].detach().float().numpy()
    write("capture", t, seq2seq_config(d, heads, ff, L, SV, TV, P, {}), {"src": SRC, "tgt": TGT})


def main():
    torch.set_num_threads(1)
    for i, kind in enumerate(KINDS):
        case_scores(kind, 20 + i)
    case_model("additive", 30)
    case_model("general", 31)
    case_capture(32)


if __name__ == "__main__":
    main()
