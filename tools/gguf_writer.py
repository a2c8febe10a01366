"""GGUF v3 writer and ggml's block formats, in numpy (used by format_fixtures.py and gguf_models.py).

Quantizers are this project's own (simple min/max and absmax choices of scales, vectorized); the
byte layouts and the dequantization follow ggml's reference (ggml-quants.c: dequantize_row_*), with
float32 rounding where the C code rounds, so a file written here reads the same in llama.cpp.

  F32, F16
  Q8_0  32 values: f16 d, 32 int8;                     x = d * q
  Q4_0  32 values: f16 d, 16 bytes of nibbles;         x = d * (q - 8)       (low nibbles: values 0..15)
  Q4_K  256 values: f16 d, f16 dmin, 12 bytes of 6-bit scales/mins of 8 sub-blocks of 32, 128 bytes of
        nibbles (each 32 bytes hold two sub-blocks: low nibbles, then high);  x = d*sc*q - dmin*m
  Q5_K  as Q4_K plus 32 bytes of high bits (value 64c+l: bit 2c of byte l; 64c+32+l: bit 2c+1), q 0..31
  Q6_K  256 values: 128 bytes of low nibbles, 64 of high 2-bit pairs, 16 int8 scales (one per 16),
        f16 d;  x = d * sc * (q - 32)
"""
import struct

import numpy as np

# name -> (ggml type id, values per block, bytes per block)
GGML_TYPES = {"F32": (0, 1, 4), "F16": (1, 1, 2), "Q4_0": (2, 32, 18), "Q8_0": (8, 32, 34),
              "Q4_K": (12, 256, 144), "Q5_K": (13, 256, 176), "Q6_K": (14, 256, 210)}

VALUE_TYPES = {"u8": 0, "i8": 1, "u16": 2, "i16": 3, "u32": 4, "i32": 5, "f32": 6, "bool": 7, "str": 8, "arr": 9,
               "u64": 10, "i64": 11, "f64": 12}
SCALAR_FMT = {"u8": "<B", "i8": "<b", "u16": "<H", "i16": "<h", "u32": "<I", "i32": "<i", "f32": "<f", "bool": "<?",
              "u64": "<Q", "i64": "<q", "f64": "<d"}
f32 = np.float32


# ------------------------------------------------------------------------------------ file layout
def gguf_str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gguf_value(kind, v):
    if kind == "str":
        return gguf_str(v)
    if isinstance(kind, tuple):  # ("arr", element kind)
        ek = kind[1]
        code = VALUE_TYPES["arr"] if isinstance(ek, tuple) else VALUE_TYPES[ek]
        if ek in ("f32", "i32", "u32"):  # long vocab arrays: pack at once
            return struct.pack("<IQ", code, len(v)) + np.asarray(v, dtype=SCALAR_FMT[ek]).tobytes()
        return struct.pack("<IQ", code, len(v)) + b"".join(gguf_value(ek, x) for x in v)
    return struct.pack(SCALAR_FMT[kind], v)


def tensor_bytes(kind, shape):
    _, block, size = GGML_TYPES[kind]
    n = int(np.prod(shape))
    assert shape[-1] % block == 0, f"{kind} rows must be a multiple of {block}, not {shape[-1]}"
    return n // block * size


def write_gguf(path, kvs, tensors, alignment=32):
    """kvs: list of (key, kind, value); tensors: list of (name, ggml type, torch-order shape, data), data
    the stored bytes or a function returning them (called once, in order, so big models stream)."""
    infos, off = [], 0
    for name, kind, shape, _ in tensors:
        dims = list(reversed(shape))
        infos.append(gguf_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
                     + struct.pack("<IQ", GGML_TYPES[kind][0], off))
        off += tensor_bytes(kind, shape)
        off += (-off) % alignment
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, kind, v in kvs:
        code = VALUE_TYPES["arr"] if isinstance(kind, tuple) else VALUE_TYPES[kind]
        head += gguf_str(key) + struct.pack("<I", code) + gguf_value(kind, v)
    head += b"".join(infos)
    head += b"\0" * ((-len(head)) % alignment)
    with open(path, "wb") as f:
        f.write(head)
        for name, kind, shape, data in tensors:
            b = data() if callable(data) else data
            assert len(b) == tensor_bytes(kind, shape), f"{name}: {len(b)} bytes for {kind} {shape}"
            f.write(b)
            f.write(b"\0" * ((-len(b)) % alignment))


# ----------------------------------------------------------------------------------- quantization
def f16_bytes(x):
    return np.ascontiguousarray(np.asarray(x, dtype=np.float16)).view(np.uint8)


def safe_inv(x):
    return np.where(x != 0, 1.0 / np.where(x != 0, x, 1), 0).astype(np.float32)


def quantize(kind, w):
    """float32 array (last axis a whole number of blocks) -> (stored bytes, the values a reader sees)."""
    w = np.ascontiguousarray(w, dtype=np.float32)
    if kind == "F32":
        return w.astype("<f4").tobytes(), w
    if kind == "F16":
        h = w.astype(np.float16)
        return h.astype("<f2").tobytes(), h.astype(np.float32)
    raw = {"Q8_0": q8_0, "Q4_0": q4_0, "Q4_K": q4_k, "Q5_K": q5_k, "Q6_K": q6_k}[kind](w.reshape(-1, GGML_TYPES[kind][1]))
    return raw.tobytes(), dequantize(kind, raw).reshape(w.shape)


def q8_0(x):
    d = (np.abs(x).max(axis=1) / 127.0).astype(np.float16)
    q = np.clip(np.round(x * safe_inv(d.astype(np.float32))[:, None]), -127, 127).astype(np.int8)
    return np.concatenate([f16_bytes(d).reshape(-1, 2), q.view(np.uint8)], axis=1)


def q4_0(x):
    """ggml's choice: d = (the value of largest magnitude) / -8, q = x/d + 8.5 clamped to 15."""
    mx = x[np.arange(len(x)), np.abs(x).argmax(axis=1)]
    d = (mx / -8.0).astype(np.float16)
    q = np.clip(np.floor(x * safe_inv(d.astype(np.float32))[:, None] + 8.5), 0, 15).astype(np.uint8)
    return np.concatenate([f16_bytes(d).reshape(-1, 2), q[:, :16] | (q[:, 16:] << 4)], axis=1)


def pack_scales_mins(ls, lm):
    """8 six-bit scales and mins per super-block -> ggml's 12 bytes (get_scale_min_k4's inverse)."""
    s = np.zeros((len(ls), 12), dtype=np.uint8)
    s[:, 0:4] = ls[:, 0:4] | ((ls[:, 4:8] >> 4) << 6)
    s[:, 4:8] = lm[:, 0:4] | ((lm[:, 4:8] >> 4) << 6)
    s[:, 8:12] = (ls[:, 4:8] & 15) | ((lm[:, 4:8] & 15) << 4)
    return s


def unpack_scales_mins(s):
    s = s.astype(np.int32)
    ls = np.concatenate([s[:, 0:4] & 63, (s[:, 8:12] & 15) | ((s[:, 0:4] >> 6) << 4)], axis=1)
    lm = np.concatenate([s[:, 4:8] & 63, (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)], axis=1)
    return ls, lm


def affine_k(x, levels):
    """Super-blocks (n, 256) -> f16 d, dmin, 6-bit scales and mins of the 8 sub-blocks, and quants 0..levels:
    each sub-block spans [min(x, 0), max(x)]; x ~ d*sc*q - dmin*m."""
    sub = x.reshape(-1, 8, 32)
    lo = np.minimum(sub.min(axis=2), 0)
    scale = (sub.max(axis=2) - lo) / levels
    d = (scale.max(axis=1) / 63).astype(np.float16)
    dmin = ((-lo).max(axis=1) / 63).astype(np.float16)
    ls = np.clip(np.round(scale * safe_inv(d.astype(np.float32))[:, None]), 0, 63).astype(np.uint8)
    lm = np.clip(np.round(-lo * safe_inv(dmin.astype(np.float32))[:, None]), 0, 63).astype(np.uint8)
    step = d.astype(np.float32)[:, None] * ls
    offset = dmin.astype(np.float32)[:, None] * lm
    q = np.clip(np.round((sub + offset[:, :, None]) * safe_inv(step)[:, :, None]), 0, levels).astype(np.uint8)
    head = np.concatenate([f16_bytes(d).reshape(-1, 2), f16_bytes(dmin).reshape(-1, 2), pack_scales_mins(ls, lm)], axis=1)
    return head, q.reshape(-1, 4, 2, 32)  # [block, chunk of 64, half, 32]


def q4_k(x):
    head, q = affine_k(x, 15)
    return np.concatenate([head, (q[:, :, 0] | (q[:, :, 1] << 4)).reshape(-1, 128)], axis=1)


def q5_k(x):
    head, q = affine_k(x, 31)
    low = (q & 15)
    hi = (q >> 4).astype(np.uint8)  # [block, chunk, half, l] -> bit 2*chunk+half of byte l
    shifts = (2 * np.arange(4)[:, None] + np.arange(2)[None, :]).astype(np.uint8)
    qh = (hi << shifts[None, :, :, None]).sum(axis=(1, 2)).astype(np.uint8)
    return np.concatenate([head, qh, (low[:, :, 0] | (low[:, :, 1] << 4)).reshape(-1, 128)], axis=1)


def q6_k(x):
    """Per 16 values: scale = (value of largest magnitude) / -32; the 16 scales as int8 times f16 d."""
    g = x.reshape(-1, 16, 16)
    n = len(g)
    mx = np.take_along_axis(g, np.abs(g).argmax(axis=2)[:, :, None], axis=2)[:, :, 0]
    scale = mx / -32.0
    amax = np.take_along_axis(scale, np.abs(scale).argmax(axis=1)[:, None], axis=1)[:, 0]
    d = (amax / -128.0).astype(np.float16)
    sc = np.clip(np.round(scale * safe_inv(d.astype(np.float32))[:, None]), -128, 127).astype(np.int8)
    step = d.astype(np.float32)[:, None] * sc
    q = (np.clip(np.round(g * safe_inv(step)[:, :, None]), -32, 31) + 32).astype(np.uint8).reshape(n, 2, 4, 32)
    ql = np.concatenate([q[:, :, 0] & 15 | ((q[:, :, 2] & 15) << 4), q[:, :, 1] & 15 | ((q[:, :, 3] & 15) << 4)], axis=2)
    qh = (q[:, :, 0] >> 4) | ((q[:, :, 1] >> 4) << 2) | ((q[:, :, 2] >> 4) << 4) | ((q[:, :, 3] >> 4) << 6)
    return np.concatenate([ql.reshape(n, 128), qh.reshape(n, 64), sc.view(np.uint8), f16_bytes(d).reshape(-1, 2)], axis=1)


# --------------------------------------------------------------------------------- dequantization
def dequantize(kind, raw):
    """Stored blocks (uint8, any shape) -> float32 values, as ggml's dequantize_row_* computes them."""
    _, block, size = GGML_TYPES[kind]
    b = np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1, size)
    if kind == "Q8_0":
        return (b[:, 2:].view(np.int8).astype(np.float32) * b[:, :2].copy().view(np.float16).astype(np.float32)).ravel()
    if kind == "Q4_0":
        q = np.concatenate([b[:, 2:] & 15, b[:, 2:] >> 4], axis=1).astype(np.float32) - 8
        return (q * b[:, :2].copy().view(np.float16).astype(np.float32)).ravel()
    if kind in ("Q4_K", "Q5_K"):
        d = b[:, 0:2].copy().view(np.float16).astype(np.float32)
        dmin = b[:, 2:4].copy().view(np.float16).astype(np.float32)
        ls, lm = unpack_scales_mins(b[:, 4:16])
        step = (d * ls.astype(np.float32)).astype(np.float32).reshape(-1, 4, 2, 1)
        offset = (dmin * lm.astype(np.float32)).astype(np.float32).reshape(-1, 4, 2, 1)
        qs = b[:, -128:].reshape(-1, 4, 1, 32)
        q = np.concatenate([qs & 15, qs >> 4], axis=2).astype(np.int32)
        if kind == "Q5_K":
            qh = b[:, 16:48].astype(np.int32).reshape(-1, 1, 1, 32)
            shifts = (2 * np.arange(4)[:, None] + np.arange(2)[None, :]).reshape(1, 4, 2, 1)
            q = q + (((qh >> shifts) & 1) << 4)
        return ((step * q.astype(np.float32)).astype(np.float32) - offset).ravel()
    if kind == "Q6_K":
        d = b[:, 208:210].copy().view(np.float16).astype(np.float32)
        sc = b[:, 192:208].view(np.int8).astype(np.float32)
        ql = b[:, 0:128].reshape(-1, 2, 2, 32).astype(np.int32)   # [block, half, (l | l+32), l]
        qh = b[:, 128:192].reshape(-1, 2, 1, 32).astype(np.int32)
        q = np.stack([(ql[:, :, 0] & 15) | ((qh[:, :, 0] & 3) << 4), (ql[:, :, 1] & 15) | (((qh[:, :, 0] >> 2) & 3) << 4),
                      (ql[:, :, 0] >> 4) | (((qh[:, :, 0] >> 4) & 3) << 4), (ql[:, :, 1] >> 4) | (((qh[:, :, 0] >> 6) & 3) << 4)],
                     axis=2) - 32  # [block, half, quarter, l]: value 128*half + 32*quarter + l
        step = (d * sc).astype(np.float32).reshape(-1, 2, 4, 2, 1)  # scale of value i is i // 16
        return (step * q.reshape(-1, 2, 4, 2, 16).astype(np.float32)).ravel()
    raise ValueError(kind)
