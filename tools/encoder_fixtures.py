#!/usr/bin/env python3
"""Sentence-encoder fixtures (tests/encode/*.test.ts): tiny random-weight Hugging Face folders and
PyTorch's embeddings / logits for them, under tests/fixtures/encoders/.

Each model follows its Hugging Face architecture tensor for tensor (names, shapes, the math: GELU erf,
LayerNorm eps from config.json, absolute + token-type position embeddings), written here in plain torch
because transformers is not installed:
  bert/         BertModel (MiniLM-like), WordPiece tokenizer.json with the [CLS] $A [SEP] template,
                sentence-transformers modules.json + 1_Pooling/config.json (mean) + Normalize
  xlm_roberta/  XLMRobertaModel: position ids start at padding_idx + 1, one token type, eps 1e-5,
                Unigram (SentencePiece-style) tokenizer.json with the <s> $A </s> template
  distilbert/   DistilBertModel: no token types, q_lin/k_lin/v_lin/out_lin names
  cross/        BertForSequenceClassification, one logit (a cross-encoder), pair template with type ids
  classifier/   BertForSequenceClassification, three labels with id2label
reference.safetensors holds, per model and text, the hidden states and the pooled vectors (mean, cls, last,
mean normalized) of the text alone and of all texts in one padded batch with an attention mask, and the
logits; its __metadata__["fixture"] holds the texts and the token ids (and type ids) each tokenizer makes,
computed here by reference WordPiece / Unigram encoders.

Usage: /usr/bin/python3 tools/encoder_fixtures.py
"""
import json
import math
import os
import re
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from format_fixtures import wordpiece_tokenizer_json  # noqa: E402
from torch_fixtures import randomize, write_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "encoders")
SP = "\u2581"

TEXTS = ["the cat sat on the mat.", "the dog reads a book in the park!", "cats walk", "the river, the park and the dog sat"]
PAIRS = [("the cat", "the cat sat on the mat."), ("the cat", "the dog walks in the park"), ("a river", "reading books")]


# ------------------------------------------------------------------------------------- tokenizers


def wordpiece_ids(text, vocab):
    """BertNormalizer (lowercase) + BertPreTokenizer (whitespace, punctuation) + greedy longest-match WordPiece."""
    ids = []
    for word in re.findall(r"\w+|[^\w\s]", text.lower()):
        start = 0
        while start < len(word):
            end = len(word)
            while end > start and (word[start:end] if start == 0 else "##" + word[start:end]) not in vocab:
                end -= 1
            if end == start:
                ids.append(vocab["[UNK]"])
                break
            ids.append(vocab[word[start:end] if start == 0 else "##" + word[start:end]])
            start = end
    return ids


def bert_tokenizer_json():
    words, tj = wordpiece_tokenizer_json()
    tj["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                   {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
        "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                 {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                 {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
        "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                           "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}},
    }
    vocab = {w: i for i, w in enumerate(words)}

    def encode(a, b=None):
        ids, types = [2] + wordpiece_ids(a, vocab) + [3], None
        types = [0] * len(ids)
        if b is not None:
            tail = wordpiece_ids(b, vocab) + [3]
            ids, types = ids + tail, types + [1] * len(tail)
        return ids, types
    return len(words), tj, encode


def unigram_tokenizer_json():
    """SentencePiece-style: Metaspace pre-tokenizer, Unigram pieces with log-probability scores."""
    special = ["<s>", "<pad>", "</s>", "<unk>"]
    whole = ["the", "cat", "sat", "on", "mat", "dog", "read", "book", "in", "park", "river", "and", "walk", "a"]
    subs = ["s", "ing", "at", "er", "ark"]
    chars = sorted(set("".join(TEXTS)) - {" "})
    pieces = [(p, 0.0) for p in special]
    pieces += [(SP + w, -3.0 - 0.01 * i) for i, w in enumerate(whole)]
    pieces += [(s, -4.0 - 0.01 * i) for i, s in enumerate(subs)]
    pieces += [(SP, -5.0)] + [(c, -8.0 - 0.01 * i) for i, c in enumerate(chars)]
    score = {p: s for p, s in pieces}
    index = {p: i for i, (p, _) in enumerate(pieces)}

    def viterbi(word):
        best = [(0.0, [])] + [(-math.inf, None)] * len(word)
        for end in range(1, len(word) + 1):
            for start in range(end):
                piece = word[start:end]
                if piece in score and best[start][1] is not None and best[start][0] + score[piece] > best[end][0]:
                    best[end] = (best[start][0] + score[piece], best[start][1] + [index[piece]])
        return best[-1][1]

    def encode(a, b=None):
        body = lambda t: [i for w in t.split() for i in viterbi(SP + w)]  # noqa: E731
        ids = [0] + body(a) + [2]
        if b is not None:
            ids += [2] + body(b) + [2]
        return ids, [0] * len(ids)

    tj = {
        "version": "1.0",
        "added_tokens": [{"id": i, "content": w, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
                          "special": True} for i, w in enumerate(special)],
        "normalizer": None,
        "pre_tokenizer": {"type": "Metaspace", "replacement": SP, "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [0], "tokens": ["<s>"]},
                               "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}},
        },
        "decoder": {"type": "Metaspace", "replacement": SP, "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": 3, "byte_fallback": False, "vocab": [[p, s] for p, s in pieces]},
    }
    return len(pieces), tj, encode


# ----------------------------------------------------------------------------------------- models


def attention(q, k, v, h, key_mask):
    """Multi-head scaled dot-product attention; key_mask [B, T] True where a key is padding."""
    B, T, d = q.shape
    heads = lambda t: t.view(B, T, h, d // h).transpose(1, 2)  # noqa: E731
    scores = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(d // h)
    scores = scores.masked_fill(key_mask[:, None, None, :], torch.finfo(torch.float32).min)
    return (F.softmax(scores, dim=-1) @ heads(v)).transpose(1, 2).reshape(B, T, d)


def linear(d_in, d_out):
    return nn.Linear(d_in, d_out)


class BertLayer(nn.Module):
    def __init__(self, d, h, ff, eps):
        super().__init__()
        self.h = h
        self.attention = nn.Module()
        self.attention.self = nn.Module()
        self.attention.self.query, self.attention.self.key, self.attention.self.value = linear(d, d), linear(d, d), linear(d, d)
        self.attention.output = nn.Module()
        self.attention.output.dense = linear(d, d)
        self.attention.output.LayerNorm = nn.LayerNorm(d, eps=eps)
        self.intermediate = nn.Module()
        self.intermediate.dense = linear(d, ff)
        self.output = nn.Module()
        self.output.dense = linear(ff, d)
        self.output.LayerNorm = nn.LayerNorm(d, eps=eps)

    def forward(self, x, key_mask):
        a = self.attention.self
        ctx = attention(a.query(x), a.key(x), a.value(x), self.h, key_mask)
        x = self.attention.output.LayerNorm(self.attention.output.dense(ctx) + x)
        return self.output.LayerNorm(self.output.dense(F.gelu(self.intermediate.dense(x))) + x)


class BertModel(nn.Module):
    """BertModel / RobertaModel / XLMRobertaModel (`padding_idx` set: positions start at padding_idx + 1)."""

    def __init__(self, V, P, types, d, h, ff, L, eps, padding_idx=None, pooler=False):
        super().__init__()
        self.padding_idx = padding_idx
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(V, d)
        self.embeddings.position_embeddings = nn.Embedding(P, d)
        self.embeddings.token_type_embeddings = nn.Embedding(types, d)
        self.embeddings.LayerNorm = nn.LayerNorm(d, eps=eps)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList([BertLayer(d, h, ff, eps) for _ in range(L)])
        if pooler:
            self.pooler = nn.Module()
            self.pooler.dense = linear(d, d)

    def forward(self, ids, types, attention_mask):
        e = self.embeddings
        if self.padding_idx is None:
            pos = torch.arange(ids.shape[1])[None, :].expand_as(ids)
        else:  # create_position_ids_from_input_ids: pads keep padding_idx, tokens count on from padding_idx + 1
            m = (ids != self.padding_idx).long()
            pos = torch.cumsum(m, dim=1) * m + self.padding_idx
        x = e.word_embeddings(ids) + e.token_type_embeddings(types)
        x = e.LayerNorm(x + e.position_embeddings(pos))
        for layer in self.encoder.layer:
            x = layer(x, attention_mask == 0)
        return x


class DistilBertModel(nn.Module):
    def __init__(self, V, P, d, h, ff, L):
        super().__init__()
        self.h = h
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(V, d)
        self.embeddings.position_embeddings = nn.Embedding(P, d)
        self.embeddings.LayerNorm = nn.LayerNorm(d, eps=1e-12)
        self.transformer = nn.Module()
        self.transformer.layer = nn.ModuleList()
        for _ in range(L):
            blk = nn.Module()
            blk.attention = nn.Module()
            blk.attention.q_lin, blk.attention.k_lin, blk.attention.v_lin = linear(d, d), linear(d, d), linear(d, d)
            blk.attention.out_lin = linear(d, d)
            blk.sa_layer_norm = nn.LayerNorm(d, eps=1e-12)
            blk.ffn = nn.Module()
            blk.ffn.lin1, blk.ffn.lin2 = linear(d, ff), linear(ff, d)
            blk.output_layer_norm = nn.LayerNorm(d, eps=1e-12)
            self.transformer.layer.append(blk)

    def forward(self, ids, types, attention_mask):
        e = self.embeddings
        x = e.LayerNorm(e.word_embeddings(ids) + e.position_embeddings(torch.arange(ids.shape[1]))[None])
        for blk in self.transformer.layer:
            a = blk.attention
            x = blk.sa_layer_norm(a.out_lin(attention(a.q_lin(x), a.k_lin(x), a.v_lin(x), self.h, attention_mask == 0)) + x)
            x = blk.output_layer_norm(blk.ffn.lin2(F.gelu(blk.ffn.lin1(x))) + x)
        return x


class BertForSequenceClassification(nn.Module):
    def __init__(self, labels, **kw):
        super().__init__()
        self.bert = BertModel(pooler=True, **kw)
        self.classifier = linear(self.bert.embeddings.word_embeddings.embedding_dim, labels)

    def forward(self, ids, types, attention_mask):
        h = self.bert(ids, types, attention_mask)
        return self.classifier(torch.tanh(self.bert.pooler.dense(h[:, 0])))


# ---------------------------------------------------------------------------------------- outputs


def pooled(h, mask):
    """h [B, T, d], mask [B, T] (1 = token): the sentence-transformers poolings."""
    m = mask[..., None].float()
    mean = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
    last = h[torch.arange(h.shape[0]), mask.sum(1) - 1]
    return {"mean": mean, "cls": h[:, 0], "last": last, "mean_normalized": F.normalize(mean, p=2, dim=1)}


def batch(encoded, pad_id):
    n = max(len(ids) for ids, _ in encoded)
    ids = torch.tensor([i + [pad_id] * (n - len(i)) for i, _ in encoded])
    types = torch.tensor([t + [0] * (n - len(t)) for _, t in encoded])
    mask = torch.tensor([[1] * len(i) + [0] * (n - len(i)) for i, _ in encoded])
    return ids, types, mask


def run_encoder(name, model, encode, pad_id, ref, fixture):
    encoded = [encode(t) for t in TEXTS]
    fixture[name] = {"ids": [i for i, _ in encoded]}
    with torch.no_grad():
        for k, (ids, types) in enumerate(encoded):
            h = model(torch.tensor([ids]), torch.tensor([types]), torch.ones(1, len(ids), dtype=torch.long))
            ref[f"{name}.{k}.hidden"] = h[0]
            for mode, v in pooled(h, torch.ones(1, len(ids), dtype=torch.long)).items():
                ref[f"{name}.{k}.{mode}"] = v[0]
        ids, types, mask = batch(encoded, pad_id)
        for mode, v in pooled(model(ids, types, mask), mask).items():
            ref[f"{name}.batch.{mode}"] = v


def write_folder(sub, model, config, tokenizer, prefix=""):
    os.makedirs(os.path.join(OUT, sub), exist_ok=True)
    sd = {prefix + k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    write_safetensors(os.path.join(OUT, sub, "model.safetensors"), sd, {"format": "pt"})
    with open(os.path.join(OUT, sub, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(OUT, sub, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False)


def main():
    ref, fixture = {}, {"texts": TEXTS, "pairs": PAIRS}
    d, h, ff, L, P = 32, 4, 64, 2, 32
    V, wp_json, wp_encode = bert_tokenizer_json()

    # ---- BERT, MiniLM-like, sentence-transformers layout (mean pooling, normalized)
    torch.manual_seed(21)
    bert = BertModel(V, P, 2, d, h, ff, L, 1e-12)
    randomize(bert, 0.25)
    bert_config = {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": d, "num_attention_heads": h,
                   "num_hidden_layers": L, "intermediate_size": ff, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
                   "max_position_embeddings": P, "vocab_size": V, "type_vocab_size": 2,
                   "position_embedding_type": "absolute", "pad_token_id": 0}
    write_folder("bert", bert, bert_config, wp_json)
    with open(os.path.join(OUT, "bert", "modules.json"), "w") as f:
        json.dump([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                   {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                   {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}], f, indent=1)
    os.makedirs(os.path.join(OUT, "bert", "1_Pooling"), exist_ok=True)
    with open(os.path.join(OUT, "bert", "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": d, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
                   "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
                   "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True}, f, indent=1)
    run_encoder("bert", bert, wp_encode, 0, ref, fixture)
    # token types of a pair: the BERT encoder's hidden states with type ids 1 on the second segment
    ids, types = wp_encode(*PAIRS[0])
    with torch.no_grad():
        ref["bert.pair.hidden"] = bert(torch.tensor([ids]), torch.tensor([types]), torch.ones(1, len(ids), dtype=torch.long))[0]
    fixture["bert_pair"] = {"ids": ids, "types": types}

    # ---- XLM-RoBERTa: padding_idx 1, positions from 2, one token type, eps 1e-5, Unigram tokenizer
    UV, uni_json, uni_encode = unigram_tokenizer_json()
    torch.manual_seed(22)
    xlmr = BertModel(UV, P + 2, 1, d, h, ff, L, 1e-5, padding_idx=1)
    randomize(xlmr, 0.25)
    write_folder("xlm_roberta", xlmr, {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "hidden_size": d, "num_attention_heads": h,
        "num_hidden_layers": L, "intermediate_size": ff, "hidden_act": "gelu", "layer_norm_eps": 1e-5,
        "max_position_embeddings": P + 2, "vocab_size": UV, "type_vocab_size": 1, "position_embedding_type": "absolute",
        "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2}, uni_json, prefix="roberta.")
    run_encoder("xlm_roberta", xlmr, uni_encode, 1, ref, fixture)

    # ---- DistilBERT
    torch.manual_seed(23)
    distil = DistilBertModel(V, P, d, h, ff, L)
    randomize(distil, 0.25)
    write_folder("distilbert", distil, {
        "architectures": ["DistilBertModel"], "model_type": "distilbert", "dim": d, "n_heads": h, "n_layers": L,
        "hidden_dim": ff, "activation": "gelu", "max_position_embeddings": P, "vocab_size": V, "pad_token_id": 0,
        "sinusoidal_pos_embds": False}, wp_json, prefix="distilbert.")
    run_encoder("distilbert", distil, wp_encode, 0, ref, fixture)

    # ---- cross-encoder (one logit) and classifier (three labels)
    kw = dict(V=V, P=P, types=2, d=d, h=h, ff=ff, L=L, eps=1e-12)
    heads = {"cross": (1, None), "classifier": (3, {"0": "negative", "1": "neutral", "2": "positive"})}
    for seed, (name, (labels, id2label)) in enumerate(heads.items()):
        torch.manual_seed(24 + seed)
        m = BertForSequenceClassification(labels, **kw)
        randomize(m, 0.25)
        config = dict(bert_config, architectures=["BertForSequenceClassification"])
        if id2label:
            config["id2label"], config["label2id"] = id2label, {v: int(k) for k, v in id2label.items()}
        else:
            config["num_labels"] = 1
        write_folder(name, m, config, wp_json)
        encoded = [wp_encode(*p) for p in PAIRS] if name == "cross" else [wp_encode(t) for t in TEXTS]
        fixture[name] = {"ids": [i for i, _ in encoded], "types": [t for _, t in encoded]}
        with torch.no_grad():
            ref[f"{name}.logits"] = torch.cat([m(torch.tensor([i]), torch.tensor([t]), torch.ones(1, len(i), dtype=torch.long))
                                               for i, t in encoded])

    path = os.path.join(OUT, "reference.safetensors")
    write_safetensors(path, {k: v.numpy() for k, v in ref.items()}, {"fixture": json.dumps(fixture)})
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"encoder fixtures: {total} bytes")


if __name__ == "__main__":
    main()
