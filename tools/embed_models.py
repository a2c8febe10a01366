#!/usr/bin/env python3
"""Models of the sentence-embedding benchmark (bench/embed.bench.ts): random-weight BERT encoders as Hugging Face
folders (ours) and the same weights as ONNX graphs (onnxruntime-web), into bench/models/embed/ (gitignored):
  <name>/config.json, model.safetensors, tokenizer.json   (WordPiece, [CLS] $A [SEP]; vocabulary padded with [unusedN])
  <name>.onnx            input_ids [B, T] int64 + attention_mask [B, T] int64 -> last_hidden_state [B, T, d]
  manifest.json          per model: shape, parameter count, files
Models: "minilm-l6" (all-MiniLM-L6-v2's shape: 6 layers, d 384, 12 heads, FFN 1536, vocabulary 30522) and
"bge-base" (12 layers, d 768, 12 heads, FFN 3072; vocabulary 8192 instead of 30522: the table's size changes
nothing timed and would add ~90 MB to each file). Same BertModel code as tools/encoder_fixtures.py; opset 17.

Usage: /usr/bin/python3 tools/embed_models.py [--out DIR]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from encoder_fixtures import BertModel, bert_tokenizer_json  # noqa: E402
from torch_fixtures import randomize, write_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
MODELS = {
    "minilm-l6": dict(V=30522, d=384, h=12, ff=1536, L=6, P=512),
    "bge-base": dict(V=8192, d=768, h=12, ff=3072, L=12, P=512),
}


class Graph(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, ids, mask):
        return self.m(ids, torch.zeros_like(ids), mask)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "models", "embed"))
    out = ap.parse_args().out
    os.makedirs(out, exist_ok=True)
    _, tj, _ = bert_tokenizer_json()
    manifest = {"torch": torch.__version__, "opset": 17, "models": []}
    for seed, (name, s) in enumerate(MODELS.items()):
        vocab = tj["model"]["vocab"]
        words = sorted(vocab, key=vocab.get)
        words += [f"[unused{i}]" for i in range(len(words), s["V"])]
        tok = dict(tj, model=dict(tj["model"], vocab={w: i for i, w in enumerate(words)}))
        torch.manual_seed(100 + seed)
        m = BertModel(s["V"], s["P"], 2, s["d"], s["h"], s["ff"], s["L"], 1e-12)
        randomize(m, 0.05)
        m.eval()
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        write_safetensors(os.path.join(folder, "model.safetensors"), {k: v.detach().numpy() for k, v in m.state_dict().items()}, {"format": "pt"})
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump({"architectures": ["BertModel"], "model_type": "bert", "hidden_size": s["d"], "num_attention_heads": s["h"],
                       "num_hidden_layers": s["L"], "intermediate_size": s["ff"], "hidden_act": "gelu", "layer_norm_eps": 1e-12,
                       "max_position_embeddings": s["P"], "vocab_size": s["V"], "type_vocab_size": 2,
                       "position_embedding_type": "absolute", "pad_token_id": 0}, f, indent=1)
        with open(os.path.join(folder, "tokenizer.json"), "w") as f:
            json.dump(tok, f)
        ids = torch.randint(5, s["V"], (2, 8))
        onnx_path = os.path.join(out, f"{name}.onnx")
        with torch.no_grad():
            torch.onnx.export(Graph(m), (ids, torch.ones_like(ids)), onnx_path, input_names=["input_ids", "attention_mask"],
                              output_names=["last_hidden_state"], opset_version=17, do_constant_folding=True,
                              dynamic_axes={"input_ids": {0: "B", 1: "T"}, "attention_mask": {0: "B", 1: "T"},
                                            "last_hidden_state": {0: "B", 1: "T"}})
        params = sum(p.numel() for p in m.parameters())
        manifest["models"].append({"name": name, **s, "params": params, "folder": name, "onnx": f"{name}.onnx"})
        print(f"{name}: {params / 1e6:.1f}M parameters", flush=True)
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    main()
