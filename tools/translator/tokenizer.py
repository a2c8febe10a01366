"""Tokenizers shared by corpus.py, train.py and export (mirrored in src/formats/tokenizers/*.ts).

English (source): Unicode-lowercase the text (str.lower, same as JS toLowerCase), then take every match
of SRC_PATTERN left to right: a run of ASCII letters/digits is one word, any other single code point that
is not ASCII whitespace (space, \\t, \\n, \\r, \\f, \\v) is one token (punctuation, symbols, non-ASCII
letters). The pattern uses only constructs that mean the same in Python `re` and JS RegExp (flag "g").

Chinese (target): one token per Unicode code point, punctuation included, nothing dropped.

Special ids are fixed: <pad>=0, <bos>=1, <eos>=2, <unk>=3. Vocabularies list the specials first, then
the tokens of the training corpus by descending count, ties broken by code-point order of the token.
"""
import collections
import re

SRC_PATTERN = r"[a-z0-9]+|[^a-z0-9 \t\n\r\f\v]"
_SRC_RE = re.compile(SRC_PATTERN)

PAD, BOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ["<pad>", "<bos>", "<eos>", "<unk>"]


def src_tokens(text):
    """English text -> list of token strings."""
    return _SRC_RE.findall(text.lower())


def tgt_tokens(text):
    """Chinese text -> list of code points."""
    return list(text)


def build_vocab(token_lists):
    """Deterministic vocabulary: specials, then by (-count, token)."""
    counts = collections.Counter()
    for toks in token_lists:
        counts.update(toks)
    for s in SPECIALS:
        counts.pop(s, None)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return SPECIALS + [t for t, _ in ordered]


def encode(tokens, vocab_index):
    """Token strings -> ids, unknown tokens -> UNK."""
    return [vocab_index.get(t, UNK) for t in tokens]
