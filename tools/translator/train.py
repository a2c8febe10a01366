#!/usr/bin/env python3
"""Train the default simdformer translator (English -> Chinese) and export it.

Post-LN encoder-decoder exactly like the original transformer, built from torch.nn.TransformerEncoderLayer /
TransformerDecoderLayer (norm_first=False, batch_first=True, ReLU), WITHOUT the extra final LayerNorm that
torch.nn.Transformer puts after each stack. Sinusoidal positions added after scaling token embeddings by
sqrt(d_model); separate (untied) output projection with bias.

Usage (after corpus.py):
  /usr/bin/python3 tools/translator/train.py                 # train, then export + fixture
  /usr/bin/python3 tools/translator/train.py --export-only   # export + fixture from out/checkpoint.pt
Outputs: models/default/translator.safetensors, tests/fixtures/translator/heldout.json,
tools/translator/out/{checkpoint.pt,train_log.json}.
"""
import argparse
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tokenizer as tok  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(HERE, "out")
MODEL_PATH = os.path.join(ROOT, "models", "default", "translator.safetensors")
FIXTURE_PATH = os.path.join(ROOT, "tests", "fixtures", "translator", "heldout.json")

SEED = 1234
HP = dict(d_model=128, n_heads=4, d_ff=256, encoder_layers=2, decoder_layers=2, dropout=0.1,
          max_positions=64, max_target_length=48, batch_size=128, peak_lr=1.5e-3, warmup_steps=300,
          max_steps=4500, eval_every=250, target_accuracy=0.99, min_steps=2500, label_smoothing=0.1,
          time_cap_seconds=40 * 60)


def sinusoid_table(n_pos, d_model):
    """PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(same angle); computed in float64, stored f32."""
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    i2 = np.arange(0, d_model, 2, dtype=np.float64)[None, :]
    angle = pos / np.power(10000.0, i2 / d_model)
    pe = np.zeros((n_pos, d_model), dtype=np.float64)
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle)
    return torch.from_numpy(pe.astype(np.float32))


class Translator(nn.Module):
    """state_dict names are the tensor names of the exported file (see README.md)."""

    def __init__(self, src_vocab, tgt_vocab, d_model, n_heads, d_ff, encoder_layers, decoder_layers, dropout,
                 max_positions, **_):
        super().__init__()
        self.d_model = d_model
        self.src_embed = nn.Embedding(src_vocab, d_model)
        self.tgt_embed = nn.Embedding(tgt_vocab, d_model)
        enc = nn.TransformerEncoderLayer(d_model, n_heads, d_ff, dropout, activation="relu", batch_first=True,
                                         norm_first=False)
        dec = nn.TransformerDecoderLayer(d_model, n_heads, d_ff, dropout, activation="relu", batch_first=True,
                                         norm_first=False)
        self.encoder = nn.TransformerEncoder(enc, encoder_layers, norm=None, enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(dec, decoder_layers, norm=None)
        self.generator = nn.Linear(d_model, tgt_vocab)
        self.drop = nn.Dropout(dropout)
        self.register_buffer("pe", sinusoid_table(max_positions, d_model), persistent=False)
        self.scale = math.sqrt(d_model)

    def embed(self, table, ids):
        return self.drop(table(ids) * self.scale + self.pe[: ids.shape[1]])

    def encode(self, src, src_pad):
        return self.encoder(self.embed(self.src_embed, src), src_key_padding_mask=src_pad)

    def decode(self, tgt_in, memory, src_pad):
        n = tgt_in.shape[1]
        causal = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
        h = self.decoder(self.embed(self.tgt_embed, tgt_in), memory, tgt_mask=causal,
                         memory_key_padding_mask=src_pad)
        return self.generator(h)

    def forward(self, src, src_pad, tgt_in):
        return self.decode(tgt_in, self.encode(src, src_pad), src_pad)


# ------------------------------------------------------------------------------------------------- data
def read_tsv(name):
    with open(os.path.join(OUT, name), encoding="utf-8") as f:
        return [tuple(line.rstrip("\n").split("\t")) for line in f if line.strip()]


def src_ids(text, index):
    """Source ids fed to the encoder: tokenizer ids + <eos>."""
    return tok.encode(tok.src_tokens(text), index) + [tok.EOS]


def tgt_ids(text, index):
    return tok.encode(tok.tgt_tokens(text), index)


def pad_batch(seqs):
    n = max(len(s) for s in seqs)
    return torch.tensor([s + [tok.PAD] * (n - len(s)) for s in seqs], dtype=torch.long)


@torch.no_grad()
def greedy(model, srcs, max_len):
    """Batched greedy decoding; returns generated ids per sentence, without <bos>/<eos>."""
    model.eval()
    src = pad_batch(srcs)
    src_pad = src == tok.PAD
    memory = model.encode(src, src_pad)
    ys = torch.full((len(srcs), 1), tok.BOS, dtype=torch.long)
    done = torch.zeros(len(srcs), dtype=torch.bool)
    for _ in range(max_len):
        nxt = model.decode(ys, memory, src_pad)[:, -1].argmax(-1)
        ys = torch.cat([ys, nxt[:, None]], 1)
        done |= nxt == tok.EOS
        if bool(done.all()):
            break
    out = []
    for row in ys[:, 1:].tolist():
        out.append(row[: row.index(tok.EOS)] if tok.EOS in row else row)
    return out


def accuracy(model, pairs, sv, tv, max_len, batch=100):
    hits = 0
    for i in range(0, len(pairs), batch):
        chunk = pairs[i: i + batch]
        preds = greedy(model, [src_ids(e, sv) for e, _ in chunk], max_len)
        hits += sum(p == tgt_ids(z, tv) for p, (_, z) in zip(preds, chunk))
    return hits / len(pairs)


# ------------------------------------------------------------------------------------------------ train
def train(threads):
    torch.manual_seed(SEED)
    torch.set_num_threads(threads)
    rng = random.Random(SEED)
    train_rows, valid_rows = read_tsv("train.tsv"), read_tsv("valid.tsv")
    src_vocab = tok.build_vocab(tok.src_tokens(e) for e, _ in train_rows)
    tgt_vocab = tok.build_vocab(tok.tgt_tokens(z) for _, z in train_rows)
    sv = {t: i for i, t in enumerate(src_vocab)}
    tv = {t: i for i, t in enumerate(tgt_vocab)}
    data = [(src_ids(e, sv), [tok.BOS] + tgt_ids(z, tv) + [tok.EOS]) for e, z in train_rows]
    model = Translator(len(src_vocab), len(tgt_vocab), **HP)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"train {len(data)} pairs, src vocab {len(src_vocab)}, tgt vocab {len(tgt_vocab)}, params {n_params}",
          flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=HP["peak_lr"], betas=(0.9, 0.98), eps=1e-9)

    def lr_at(step):  # linear warmup, then cosine decay to 10% over max_steps
        if step < HP["warmup_steps"]:
            return HP["peak_lr"] * (step + 1) / HP["warmup_steps"]
        p = (step - HP["warmup_steps"]) / max(1, HP["max_steps"] - HP["warmup_steps"])
        return HP["peak_lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))

    loss_fn = nn.CrossEntropyLoss(ignore_index=tok.PAD, label_smoothing=HP["label_smoothing"])
    batches, pos = [], 0

    def epoch_batches():
        # Shuffle, then sort chunks of 50 batches by length so batches carry little padding.
        order = list(range(len(data)))
        rng.shuffle(order)
        chunk = 50 * HP["batch_size"]
        out = []
        for c in range(0, len(order), chunk):
            part = sorted(order[c: c + chunk], key=lambda j: (len(data[j][0]), len(data[j][1])))
            out += [part[b: b + HP["batch_size"]] for b in range(0, len(part), HP["batch_size"])]
        rng.shuffle(out)
        return out

    t0, c0 = time.time(), time.process_time()
    log = []
    step = 0
    for step in range(1, HP["max_steps"] + 1):
        if pos == len(batches):
            batches, pos = epoch_batches(), 0
        batch = [data[j] for j in batches[pos]]
        pos += 1
        src = pad_batch([s for s, _ in batch])
        tgt = pad_batch([t for _, t in batch])
        model.train()
        for g in opt.param_groups:
            g["lr"] = lr_at(step - 1)
        logits = model(src, src == tok.PAD, tgt[:, :-1])
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        elapsed = time.time() - t0
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {lr_at(step - 1):.2e} {elapsed:.0f}s", flush=True)
        out_of_time = elapsed > HP["time_cap_seconds"]
        if (step % HP["eval_every"] == 0 and step >= 1500) or out_of_time:
            acc = accuracy(model, valid_rows, sv, tv, HP["max_target_length"])
            log.append(dict(step=step, loss=round(loss.item(), 4), valid_exact_match=acc,
                            seconds=round(time.time() - t0, 1), cpu_seconds=round(time.process_time() - c0, 1)))
            print(f"== step {step} valid exact match {acc:.4f} ({time.time() - t0:.0f}s)", flush=True)
            torch.save(dict(state=model.state_dict(), src_vocab=src_vocab, tgt_vocab=tgt_vocab, hp=HP, log=log,
                            train_seconds=time.time() - t0, train_cpu_seconds=time.process_time() - c0, steps=step), os.path.join(OUT, "checkpoint.pt"))
            if (acc >= HP["target_accuracy"] and step >= HP["min_steps"]) or out_of_time:
                break
    print(f"training done: {step} steps, {time.time() - t0:.0f}s", flush=True)


# ----------------------------------------------------------------------------------------------- export
def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, float32 numpy array) stored as F16. Header padded with spaces to 8 bytes."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, arr in tensors:
        b = np.ascontiguousarray(arr.astype("<f2")).tobytes()
        header[name] = {"dtype": "F16", "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Independent reader (checks the written file): returns (metadata, {name: float32 numpy array})."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8: 8 + n].decode("utf-8"))
    meta = header.pop("__metadata__")
    base = 8 + n
    out = {}
    for name, info in header.items():
        assert info["dtype"] == "F16"
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(raw[base + b: base + e], dtype="<f2").astype(np.float32).reshape(info["shape"])
    return meta, out


def export(threads):
    torch.set_num_threads(threads)
    ck = torch.load(os.path.join(OUT, "checkpoint.pt"))
    src_vocab, tgt_vocab, hp = ck["src_vocab"], ck["tgt_vocab"], ck["hp"]
    config = {
        "format": "simdformer", "version": 1, "arch": "encoder-decoder", "naming": "torch-transformer",
        "d_model": hp["d_model"], "n_heads": hp["n_heads"], "n_kv_heads": hp["n_heads"], "d_ff": hp["d_ff"],
        "encoder_layers": hp["encoder_layers"], "decoder_layers": hp["decoder_layers"], "activation": "relu",
        "norm": "layernorm", "norm_position": "post", "norm_eps": 1e-5,
        "encoder_final_norm": False, "decoder_final_norm": False,
        "positions": "sinusoidal", "max_positions": hp["max_positions"], "embed_scale": True,
        "tied_output": False, "output_bias": True, "attention_bias": True, "ffn_bias": True,
        "src_vocab_size": len(src_vocab), "tgt_vocab_size": len(tgt_vocab),
        "pad_id": tok.PAD, "bos_id": tok.BOS, "eos_id": tok.EOS, "unk_id": tok.UNK,
        "src_append_eos": True, "max_target_length": hp["max_target_length"],
    }
    tokenizers = {"src": {"type": "word", "lowercase": True, "pattern": tok.SRC_PATTERN},
                  "tgt": {"type": "char"}}
    meta = {"simdformer.config": json.dumps(config), "simdformer.src_vocab": json.dumps(src_vocab, ensure_ascii=False),
            "simdformer.tgt_vocab": json.dumps(tgt_vocab, ensure_ascii=False),
            "simdformer.tokenizer": json.dumps(tokenizers)}
    state = ck["state"]
    write_safetensors(MODEL_PATH, [(k, v.float().numpy()) for k, v in state.items()], meta)
    size = os.path.getsize(MODEL_PATH)
    print(f"wrote {MODEL_PATH}: {size} bytes, {len(state)} tensors", flush=True)

    # Reload from the file: f16 weights upcast to f32, as the JS runtime does.
    meta2, weights = read_safetensors(MODEL_PATH)
    assert json.loads(meta2["simdformer.config"]) == config
    model = Translator(len(src_vocab), len(tgt_vocab), **hp)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    model.eval()
    sv = {t: i for i, t in enumerate(src_vocab)}
    tv = {t: i for i, t in enumerate(tgt_vocab)}
    test_rows, valid_rows = read_tsv("test.tsv"), read_tsv("valid.tsv")
    cases = []
    hits = 0
    with torch.no_grad():
        for k, (en, zh) in enumerate(test_rows):
            s = src_ids(en, sv)
            # One sentence at a time, no padding: what the JS model computes.
            pred = greedy(model, [s], hp["max_target_length"])[0]
            ref = tgt_ids(zh, tv)
            hits += pred == ref
            case = {"src": en, "ref": zh, "src_ids": s[:-1], "ref_ids": ref, "pred_ids": pred,
                    "pred": "".join(tgt_vocab[i] for i in pred)}
            if k < 3:
                src_t = torch.tensor([s])
                pad = src_t == tok.PAD
                memory = model.encode(src_t, pad)
                logits = model.decode(torch.tensor([[tok.BOS]]), memory, pad)[0, -1]
                case["debug"] = {"encoder_out_pos0_first8": [round(float(x), 6) for x in memory[0, 0, :8]],
                                 "step0_logits_first8": [round(float(x), 6) for x in logits[:8]],
                                 "step0_argmax": int(logits.argmax())}
            cases.append(case)
        valid_acc = accuracy(model, valid_rows, sv, tv, hp["max_target_length"])
        demos = json.load(open(os.path.join(OUT, "corpus_info.json"), encoding="utf-8"))["demos"]
        demo_out = []
        for en, zh in demos:
            pred = greedy(model, [src_ids(en, sv)], hp["max_target_length"])[0]
            demo_out.append({"src": en, "ref": zh, "src_ids": src_ids(en, sv)[:-1], "ref_ids": tgt_ids(zh, tv),
                             "pred_ids": pred, "pred": "".join(tgt_vocab[i] for i in pred)})
    acc = hits / len(test_rows)
    # Tokenizer edge cases (Python ids for the JS tokenizer tests).
    tok_cases = []
    for text in ["I like deep learning", "  HELLO,   world!! I like   Pizza.", "Don't stop: 3 apples & 10 pears?",
                 "tab\tnew\nline\r\fend\vx", "naïve café déjà-vu", "I like 深度学习 ٣ x²", ""]:
        toks = tok.src_tokens(text)
        tok_cases.append({"text": text, "tokens": toks, "ids": tok.encode(toks, sv),
                          "unknown": list(dict.fromkeys(t for t in toks if t not in sv))})
    tgt_cases = []
    for text in ["我喜欢深度学习", "你好吗？", "我喜欢🙂披萨 ok", ""]:
        toks = tok.tgt_tokens(text)
        tgt_cases.append({"text": text, "tokens": toks, "ids": tok.encode(toks, tv),
                          "unknown": list(dict.fromkeys(t for t in toks if t not in tv))})
    fixture = {
        "description": "Held-out (unseen verb-object / adjective-noun pairs) English->Chinese test sentences. "
                       "pred_ids: PyTorch greedy decoding with the exported F16 weights upcast to f32, one "
                       "sentence at a time. src_ids: tokenizer ids WITHOUT the <eos> the model appends.",
        "model_file": "models/default/translator.safetensors",
        "model_bytes": size,
        "exact_match": acc, "hits": hits, "count": len(test_rows), "valid_exact_match": valid_acc,
        "train_steps": ck["steps"], "train_seconds": round(ck["train_seconds"], 1),
        "train_cpu_seconds": round(ck.get("train_cpu_seconds", float("nan")), 1),
        "config": config,
        "src_tokenizer_cases": tok_cases, "tgt_tokenizer_cases": tgt_cases,
        "demos": demo_out, "cases": cases,
    }
    os.makedirs(os.path.dirname(FIXTURE_PATH), exist_ok=True)
    with open(FIXTURE_PATH, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(OUT, "train_log.json"), "w") as f:
        json.dump(dict(log=ck["log"], steps=ck["steps"], train_seconds=ck["train_seconds"],
                       train_cpu_seconds=ck.get("train_cpu_seconds"), test_exact_match=acc,
                       valid_exact_match=valid_acc, model_bytes=size), f, indent=1)
    print(f"test exact match (f16 weights) {acc:.4f} ({hits}/{len(test_rows)}), valid {valid_acc:.4f}")
    for d in demo_out:
        print(f"demo {d['src']!r} -> {d['pred']!r} (ref {d['ref']!r})")
    for c in cases:
        if c["pred_ids"] != c["ref_ids"]:
            print(f"miss {c['src']!r}: {c['pred']!r} != {c['ref']!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--export-only", action="store_true")
    # 1 thread by default: on a shared 2-core machine, 2 OpenMP threads were 10x slower (spin-waiting).
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if not args.export_only:
        train(args.threads)
    export(args.threads)


if __name__ == "__main__":
    main()
