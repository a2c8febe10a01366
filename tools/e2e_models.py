#!/usr/bin/env python3
"""Models of the end-to-end benchmark (bench/e2e.bench.ts): ours (safetensors) and the same weights as ONNX graphs.

For every model it writes, into bench/models/ (gitignored: the larger files are tens of MB):
  <name>.safetensors       our format (F32, config in __metadata__["simdformer.config"]); not for the translator,
                           which the bench loads from models/default/translator.safetensors
  <name>.decoder.onnx      KV-cache graph: input_ids [1, T] + past_key_i / past_value_i [1, kv_heads, P, head_dim]
                           -> logits of the LAST position [1, vocab] + present_key_i / present_value_i (past + new).
                           Prefill feeds P = 0 (empty past), decode feeds T = 1: one session does both.
  <name>.nocache.onnx      the same model without cache inputs: input_ids [1, T] -> logits [1, T, vocab]; the
                           bench's reference for the greedy tokens (recomputes the whole sequence every token)
  translator.encoder.onnx  (encoder-decoder only) src_ids [1, S] -> cross_key_i / cross_value_i per decoder layer,
                           the projected encoder output the decoder graph takes as inputs (computed once per source)
  manifest.json            per model: config, parameter count, files, input/output names
Models: the default translator (its committed weights), GPT-2-style and Llama-style decoders at ~1M and ~10M
parameters and a Llama-style one at ~50M (one 50M model keeps the whole bench within ~6 minutes on 2 cores), random
weights with fixed seeds. Graphs are opset 17 (torch 1.13's newest), float32.

Usage: /usr/bin/python3 tools/e2e_models.py [--out DIR] [--only NAME,...]
Needs torch and onnx (Debian: apt-get install -y python3-torch python3-onnx). `npm run bench -- e2e` runs it
when bench/models/manifest.json is missing or older than this script.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_fixtures import Gpt2, Llama, randomize, rotate_half, write_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TRANSLATOR = os.path.join(ROOT, "models", "default", "translator.safetensors")
OPSET = 17
# Prompts up to 512 tokens plus the decoded ones.
CONTEXT = 640

# name -> (kind, sizes); params are counted from the module, these are the shapes. Seeds follow the order here.
DECODERS = {
    "gpt2-1m": ("gpt2", dict(V=2048, d=128, h=4, L=4)),
    "gpt2-10m": ("gpt2", dict(V=8192, d=256, h=8, L=10)),
    "llama-1m": ("llama", dict(V=2048, d=128, h=4, kvh=2, ff=352, L=4)),
    "llama-10m": ("llama", dict(V=8192, d=256, h=8, kvh=4, ff=704, L=8)),
    "llama-50m": ("llama", dict(V=16384, d=512, h=8, kvh=4, ff=1408, L=12)),
}


def read_safetensors(path):
    """name -> float32 array, and the metadata dict (F32 and F16 only: what our writer produces)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8: 8 + n])
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        dt = {"F32": "<f4", "F16": "<f2"}[t["dtype"]]
        out[name] = np.frombuffer(raw[base + a: base + b], dtype=dt).astype(np.float32).reshape(t["shape"])
    return out, meta


def causal_mask(P, T):
    """Additive mask [T, P+T] of queries at positions P..P+T-1 over keys 0..P+T-1, built in the graph (a
    precomputed context x context table would add MBs of initializers to the ONNX files)."""
    q = torch.arange(T)[:, None] + P
    k = torch.arange(P + T)[None, :]
    return torch.zeros(T, P + T).masked_fill(k > q, float("-inf"))


def attend(q, k, v, mask):
    """q [1, h, T, hd], k/v [1, h, S, hd] (already repeated for GQA); mask [T, S] additive or None."""
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = s + mask
    return F.softmax(s, dim=-1) @ v


def repeat_kv(t, rep):
    """[1, kvh, S, hd] -> [1, kvh*rep, S, hd] by Expand + Reshape (exports cleanly, unlike repeat_interleave)."""
    if rep == 1:
        return t
    b, kvh, s, hd = t.shape
    return t[:, :, None].expand(b, kvh, rep, s, hd).reshape(b, kvh * rep, s, hd)


def split_heads(t, h):
    b, n, w = t.shape
    return t.view(b, n, h, w // h).transpose(1, 2)


def merge_heads(t):
    b, h, n, hd = t.shape
    return t.transpose(1, 2).reshape(b, n, h * hd)


class DecoderGraph(nn.Module):
    """Cache-aware forward of a decoder-only model. With `cache` False: full sequence, all logits, no past."""

    def __init__(self, kind, m, cfg, cache):
        super().__init__()
        self.kind, self.m, self.cache = kind, m, cache
        self.h, self.kvh, self.hd, self.L = cfg["n_heads"], cfg["n_kv_heads"], cfg["head_dim"], cfg["decoder_layers"]
        if kind == "llama":
            inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, self.hd, 2, dtype=torch.float64) / self.hd))
            ang = torch.arange(CONTEXT, dtype=torch.float64)[:, None] * inv[None, :]
            emb = torch.cat((ang, ang), dim=-1)
            self.register_buffer("cos", emb.cos().float(), persistent=False)
            self.register_buffer("sin", emb.sin().float(), persistent=False)

    def forward(self, ids, *past):
        T = ids.shape[1]
        P = past[0].shape[2] if self.cache else 0
        mask = causal_mask(P, T)
        presents = []
        if self.kind == "gpt2":
            t = self.m.transformer
            x = t.wte(ids) + t.wpe.weight[P: P + T]
            for i, b in enumerate(t.h):
                d = x.shape[2]
                q, k, v = b.attn.c_attn(b.ln_1(x)).split(d, dim=2)
                q, k, v = split_heads(q, self.h), split_heads(k, self.h), split_heads(v, self.h)
                if self.cache:
                    k = torch.cat((past[2 * i], k), dim=2)
                    v = torch.cat((past[2 * i + 1], v), dim=2)
                    presents += [k, v]
                x = x + b.attn.c_proj(merge_heads(attend(q, k, v, mask)))
                x = x + b.mlp.c_proj(F.gelu(b.mlp.c_fc(b.ln_2(x)), approximate="tanh"))
            hidden = t.ln_f(x)
            # F.linear on the 2-D last row exports as Gemm(transB=1) over the embedding itself, not a transposed copy.
            head = lambda z: F.linear(z, t.wte.weight)  # noqa: E731
        else:
            mm = self.m.model
            x = mm.embed_tokens(ids)
            cos, sin = self.cos[P: P + T], self.sin[P: P + T]
            for i, b in enumerate(mm.layers):
                a = b.self_attn
                hx = b.input_layernorm(x)
                q, k, v = split_heads(a.q_proj(hx), self.h), split_heads(a.k_proj(hx), self.kvh), split_heads(a.v_proj(hx), self.kvh)
                q = q * cos + rotate_half(q) * sin
                k = k * cos + rotate_half(k) * sin
                if self.cache:
                    k = torch.cat((past[2 * i], k), dim=2)
                    v = torch.cat((past[2 * i + 1], v), dim=2)
                    presents += [k, v]
                rep = self.h // self.kvh
                x = x + a.o_proj(merge_heads(attend(q, repeat_kv(k, rep), repeat_kv(v, rep), mask)))
                hx = b.post_attention_layernorm(x)
                x = x + b.mlp.down_proj(F.silu(b.mlp.gate_proj(hx)) * b.mlp.up_proj(hx))
            hidden = mm.norm(x)
            head = self.m.lm_head
        if not self.cache:
            return head(hidden)
        return (head(hidden[:, -1]), *presents)


class TranslatorNet(nn.Module):
    """The default translator (tools/translator/train.py: post-LN nn.Transformer layers, ReLU, sinusoidal positions
    after sqrt(d) scaling, no final norms, untied generator) written out with its tensors, so the decoder can take a
    self-attention cache and the encoder can hand over projected cross-attention keys/values."""

    def __init__(self, w, cfg):
        super().__init__()
        self.w = {k: torch.from_numpy(v.copy()) for k, v in w.items()}
        for i, (k, v) in enumerate(self.w.items()):
            self.register_buffer(f"t{i}", v, persistent=False)
        self.cfg = cfg
        self.d, self.h = cfg["d_model"], cfg["n_heads"]
        self.scale = math.sqrt(self.d)
        pos = np.arange(cfg["max_positions"], dtype=np.float64)[:, None]
        angle = pos / np.power(10000.0, np.arange(0, self.d, 2, dtype=np.float64)[None, :] / self.d)
        pe = np.zeros((cfg["max_positions"], self.d))
        pe[:, 0::2], pe[:, 1::2] = np.sin(angle), np.cos(angle)
        self.register_buffer("pe", torch.from_numpy(pe.astype(np.float32)), persistent=False)

    def lin(self, x, p):
        return F.linear(x, self.w[f"{p}.weight"], self.w.get(f"{p}.bias"))

    def ln(self, x, p):
        return F.layer_norm(x, (self.d,), self.w[f"{p}.weight"], self.w[f"{p}.bias"], self.cfg["norm_eps"])

    def proj(self, x, p, part):
        """Rows part*d..(part+1)*d of a fused in_proj: 0 = q, 1 = k, 2 = v."""
        d = self.d
        return F.linear(x, self.w[f"{p}.in_proj_weight"][part * d: (part + 1) * d], self.w[f"{p}.in_proj_bias"][part * d: (part + 1) * d])

    def ffn(self, x, p):
        return self.lin(F.relu(self.lin(x, f"{p}.linear1")), f"{p}.linear2")

    def embed(self, table, ids, start):
        return F.embedding(ids, self.w[table]) * self.scale + self.pe[start: start + ids.shape[1]]

    def encode(self, src):
        x = self.embed("src_embed.weight", src, 0)
        for i in range(self.cfg["encoder_layers"]):
            p = f"encoder.layers.{i}"
            a = f"{p}.self_attn"
            q, k, v = (split_heads(self.proj(x, a, j), self.h) for j in range(3))
            x = self.ln(x + self.lin(merge_heads(attend(q, k, v, None)), f"{a}.out_proj"), f"{p}.norm1")
            x = self.ln(x + self.ffn(x, p), f"{p}.norm2")
        cross = []
        for i in range(self.cfg["decoder_layers"]):
            a = f"decoder.layers.{i}.multihead_attn"
            cross += [split_heads(self.proj(x, a, 1), self.h), split_heads(self.proj(x, a, 2), self.h)]
        return tuple(cross)

    def decode(self, ids, cross, past):
        """past: per layer (k, v) or None for the no-cache graph. Returns all-position logits without a cache."""
        T = ids.shape[1]
        P = past[0].shape[2] if past is not None else 0
        x = self.embed("tgt_embed.weight", ids, P)
        mask = causal_mask(P, T)
        presents = []
        for i in range(self.cfg["decoder_layers"]):
            p = f"decoder.layers.{i}"
            a = f"{p}.self_attn"
            q, k, v = (split_heads(self.proj(x, a, j), self.h) for j in range(3))
            if past is not None:
                k = torch.cat((past[2 * i], k), dim=2)
                v = torch.cat((past[2 * i + 1], v), dim=2)
                presents += [k, v]
            x = self.ln(x + self.lin(merge_heads(attend(q, k, v, mask)), f"{a}.out_proj"), f"{p}.norm1")
            c = f"{p}.multihead_attn"
            q = split_heads(self.proj(x, c, 0), self.h)
            x = self.ln(x + self.lin(merge_heads(attend(q, cross[2 * i], cross[2 * i + 1], None)), f"{c}.out_proj"), f"{p}.norm2")
            x = self.ln(x + self.ffn(x, p), f"{p}.norm3")
        if past is None:
            return self.lin(x, "generator")
        return (self.lin(x[:, -1], "generator"), *presents)


class Wrap(nn.Module):
    """One entry point of TranslatorNet as a module for torch.onnx.export."""

    def __init__(self, net, what):
        super().__init__()
        self.net, self.what = net, what

    def forward(self, *args):
        L = self.net.cfg["decoder_layers"]
        if self.what == "encoder":
            return self.net.encode(args[0])
        if self.what == "decoder":
            return self.net.decode(args[0], args[1: 1 + 2 * L], args[1 + 2 * L:])
        return self.net.decode(args[0], args[1: 1 + 2 * L], None)


def export(module, args, path, inputs, outputs, dynamic):
    with torch.no_grad():
        torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=dynamic,
                          opset_version=OPSET, do_constant_folding=True)
    import onnx  # checked here: a graph ORT would reject fails now, not in the bench
    onnx.checker.check_model(onnx.load(path))
    return os.path.basename(path)


def kv_names(L, what):
    return [f"{what}_{kind}_{i}" for i in range(L) for kind in ("key", "value")]


def decoder_model(name, kind, s, out):
    seed = 100 + list(DECODERS).index(name)
    torch.manual_seed(seed)
    V, d, h, L = s["V"], s["d"], s["h"], s["L"]
    if kind == "gpt2":
        m = Gpt2(V, CONTEXT, d, h, L)
        cfg = {"format": "simdformer", "version": 1, "arch": "decoder", "naming": "hf-gpt2", "d_model": d, "n_heads": h,
               "n_kv_heads": h, "head_dim": d // h, "d_ff": 4 * d, "decoder_layers": L, "activation": "gelu_tanh",
               "norm_position": "pre", "decoder_final_norm": True, "positions": "learned", "max_positions": CONTEXT,
               "tied_output": True, "output_bias": False, "vocab_size": V}
    else:
        m = Llama(V, d, h, s["kvh"], s["ff"], L, 10000.0, 1e-6)
        cfg = {"format": "simdformer", "version": 1, "arch": "decoder", "naming": "hf-llama", "d_model": d, "n_heads": h,
               "n_kv_heads": s["kvh"], "head_dim": d // h, "d_ff": s["ff"], "decoder_layers": L, "activation": "swiglu",
               "norm": "rmsnorm", "norm_eps": 1e-6, "norm_position": "pre", "decoder_final_norm": True,
               "positions": "rotary", "rope_theta": 10000.0, "rope_interleaved": False, "max_positions": CONTEXT,
               "attention_bias": False, "ffn_bias": False, "output_bias": False, "vocab_size": V}
    # std ~ 1/sqrt(d): activations stay O(1) through the depth, logits spread enough that greedy has clear winners.
    randomize(m, 1.0 / math.sqrt(d))
    m.eval()
    params = sum(p.numel() for p in m.parameters())
    st = f"{name}.safetensors"
    write_safetensors(os.path.join(out, st), {k: v.detach().numpy() for k, v in m.state_dict().items()},
                      {"simdformer.config": json.dumps(cfg)})
    hd, kvh = d // h, cfg["n_kv_heads"]
    past_in, present_out = kv_names(L, "past"), kv_names(L, "present")
    ids = torch.randint(0, V, (1, 5))
    past = tuple(torch.randn(1, kvh, 3, hd) for _ in range(2 * L))
    dyn = {"input_ids": {1: "T"}, **{n: {2: "P"} for n in past_in}, **{n: {2: "PT"} for n in present_out}}
    dec = export(DecoderGraph(kind, m, cfg, True), (ids, *past), os.path.join(out, f"{name}.decoder.onnx"),
                 ["input_ids", *past_in], ["logits", *present_out], dyn)
    nocache = export(DecoderGraph(kind, m, cfg, False), (ids,), os.path.join(out, f"{name}.nocache.onnx"),
                     ["input_ids"], ["logits"], {"input_ids": {1: "T"}, "logits": {1: "T"}})
    return {"name": name, "family": kind, "arch": "decoder", "params": params, "config": cfg, "ours": st,
            "decoder": dec, "nocache": nocache, "past": past_in, "present": present_out, "cross": []}


def translator_model(out):
    w, meta = read_safetensors(TRANSLATOR)
    cfg = json.loads(meta["simdformer.config"])
    recipe = dict(arch="encoder-decoder", naming="torch-transformer", activation="relu", norm="layernorm", norm_position="post",
                  positions="sinusoidal", embed_scale=True, tied_output=False, encoder_final_norm=False, decoder_final_norm=False,
                  attention_score=cfg.get("attention_score", "scaled_dot"))
    for k, v in recipe.items():
        if cfg.get(k, v) != v or (k == "attention_score" and v != "scaled_dot"):
            raise SystemExit(f"translator config {k}: expected {v!r}, found {cfg.get(k)!r} (tools/e2e_models.py mirrors that recipe)")
    net = TranslatorNet(w, cfg)
    net.eval()
    L, h, hd = cfg["decoder_layers"], cfg["n_heads"], cfg["d_model"] // cfg["n_heads"]
    cross, past_in, present_out = kv_names(L, "cross"), kv_names(L, "past"), kv_names(L, "present")
    src = torch.randint(4, cfg["src_vocab_size"], (1, 7))
    enc = export(Wrap(net, "encoder"), (src,), os.path.join(out, "translator.encoder.onnx"), ["src_ids"], cross,
                 {"src_ids": {1: "S"}, **{n: {2: "S"} for n in cross}})
    mem = tuple(torch.randn(1, h, 7, hd) for _ in range(2 * L))
    past = tuple(torch.randn(1, h, 3, hd) for _ in range(2 * L))
    ids = torch.randint(4, cfg["tgt_vocab_size"], (1, 2))
    cross_dyn = {n: {2: "S"} for n in cross}
    dec = export(Wrap(net, "decoder"), (ids, *mem, *past), os.path.join(out, "translator.decoder.onnx"),
                 ["input_ids", *cross, *past_in], ["logits", *present_out],
                 {"input_ids": {1: "T"}, **cross_dyn, **{n: {2: "P"} for n in past_in}, **{n: {2: "PT"} for n in present_out}})
    nocache = export(Wrap(net, "nocache"), (ids, *mem), os.path.join(out, "translator.nocache.onnx"), ["input_ids", *cross],
                     ["logits"], {"input_ids": {1: "T"}, **cross_dyn, "logits": {1: "T"}})
    return {"name": "translator", "family": "translator", "arch": "encoder-decoder", "params": int(sum(v.size for v in w.values())),
            "config": cfg, "ours": os.path.relpath(TRANSLATOR, out), "encoder": enc, "decoder": dec, "nocache": nocache,
            "past": past_in, "present": present_out, "cross": cross}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "models"))
    ap.add_argument("--only", default="", help="comma-separated model names (default: all)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    only = set(filter(None, args.only.split(",")))
    models = []
    if not only or "translator" in only:
        models.append(translator_model(args.out))
    for name, (kind, s) in DECODERS.items():
        if not only or name in only:
            models.append(decoder_model(name, kind, s, args.out))
    for m in models:
        print(f"{m['name']}: {m['params'] / 1e6:.2f}M parameters")
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"generator": "tools/e2e_models.py", "opset": OPSET, "torch": torch.__version__, "models": models}, f, indent=1)


if __name__ == "__main__":
    main()
