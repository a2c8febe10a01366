// Stored weights to float32 at load time: F16 / BF16 tensors and q8_0 / q4_0 blocks where a
// float table is wanted (an embedding gathered by rows). One pass, written for the loader's
// in-place use: the source may lie in the tail of the destination (src = dst + the bytes the
// output has over the input), because each step reads its whole input before writing its
// output, and the output never reaches input not yet read (for 2-byte halves, output element
// i ends at byte 4i + 4 <= 2n + 2(i + 1), the next unread half, while i < n).

import { f16_to_f32 } from "./q_pack";

/**
 * Halves (n x u16, IEEE binary16) to f32, exact for every value: zero and subnormals
 * (m x 2^-24), normals (exponent rebiased), infinities and NaN (payload kept).
 */
// @ts-ignore: decorator
@inline function widen4(h: v128): v128 {
  const a = v128.and(h, i32x4.splat(0x7fff));
  const sign = i32x4.shl(v128.xor(h, a), 16);
  const em = i32x4.shl(a, 13);
  const normal = i32x4.add(em, i32x4.splat(112 << 23));
  const special = v128.or(em, i32x4.splat(0x7f800000));
  const sub = f32x4.mul(f32x4.convert_i32x4_u(a), f32x4.splat(5.9604644775390625e-8));
  const big = v128.bitselect(special, normal, i32x4.ge_u(a, i32x4.splat(0x7c00)));
  return v128.or(sign, v128.bitselect(sub, big, i32x4.lt_u(a, i32x4.splat(0x400))));
}

/** dst[i] = f32(src[i]) for n IEEE halves; src may be dst + 2n (see above). Any alignment. */
export function f16_widen(n: i32, src: usize, dst: usize): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    const o = dst + (<usize>i << 2);
    const lo = widen4(i32x4.extend_low_i16x8_u(h));
    const hi = widen4(i32x4.extend_high_i16x8_u(h));
    v128.store(o, lo);
    v128.store(o, hi, 16);
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), f16_to_f32(<u32>load<u16>(src + (<usize>i << 1))));
}

/** dst[i] = f32(src[i]) for n bfloat16 values (the top halves of f32); src may be dst + 2n. Any alignment. */
export function bf16_widen(n: i32, src: usize, dst: usize): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const h = v128.load(src + (<usize>i << 1));
    const o = dst + (<usize>i << 2);
    const lo = i32x4.shl(i32x4.extend_low_i16x8_u(h), 16);
    const hi = i32x4.shl(i32x4.extend_high_i16x8_u(h), 16);
    v128.store(o, lo);
    v128.store(o, hi, 16);
  }
  for (; i < n; i++) store<u32>(dst + (<usize>i << 2), <u32>load<u16>(src + (<usize>i << 1)) << 16);
}

/**
 * nb GGUF q8_0 blocks (34 bytes: f16 d, 32 x int8 q) to 32 * nb floats d * q (exact: an f16
 * times an int8 fits f32's mantissa). src may be dst + 94 nb. Any alignment.
 */
export function q8_0_dequant(nb: i32, src: usize, dst: usize): void {
  for (let b = 0; b < nb; b++) q8_0_block(src + <usize>b * 34, dst + (<usize>b << 7), 1);
}

/** One q8_0 block at s (f16 d, then the quants) to 32 floats at o; see q8_0_values. */
// @ts-ignore: decorator
@inline function q8_0_block(s: usize, o: usize, scale: f32): void {
  q8_0_values(f16_to_f32(<u32>load<u16>(s)), s + 2, o, scale);
}

/** 32 int8 quants at q to floats d * q * scale at o (d q is exact: the float table's value times scale, rounded once). */
// @ts-ignore: decorator
@inline export function q8_0_values(d: f32, q: usize, o: usize, scale: f32): void {
  const q0 = v128.load(q);
  const q1 = v128.load(q, 16);
  store8(o, f32x4.splat(d), f32x4.splat(scale), i16x8.extend_low_i8x16_s(q0), i16x8.extend_high_i8x16_s(q0), i16x8.extend_low_i8x16_s(q1), i16x8.extend_high_i8x16_s(q1));
}

/** 32 floats d * w * scale at o from four i16x8 of w (values 0-7, 8-15, 16-23, 24-31). */
// @ts-ignore: decorator
@inline function store8(o: usize, d: v128, sv: v128, w0: v128, w1: v128, w2: v128, w3: v128): void {
  v128.store(o, f32x4.mul(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w0))), sv));
  v128.store(o, f32x4.mul(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w0))), sv), 16);
  v128.store(o, f32x4.mul(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w1))), sv), 32);
  v128.store(o, f32x4.mul(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w1))), sv), 48);
  v128.store(o, f32x4.mul(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w2))), sv), 64);
  v128.store(o, f32x4.mul(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w2))), sv), 80);
  v128.store(o, f32x4.mul(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_s(w3))), sv), 96);
  v128.store(o, f32x4.mul(f32x4.mul(d, f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_s(w3))), sv), 112);
}

/**
 * nb GGUF q4_0 blocks (18 bytes: f16 d, 16 bytes; byte t holds value t low, t + 16 high) to
 * 32 * nb floats d * (q - 8), exact. src may be dst + 110 nb. Any alignment.
 */
export function q4_0_dequant(nb: i32, src: usize, dst: usize): void {
  for (let b = 0; b < nb; b++) q4_0_block(src + <usize>b * 18, dst + (<usize>b << 7), 1);
}

/** One q4_0 block at s (f16 d, then 16 nibble bytes) to 32 floats at o; see q4_0_values. */
// @ts-ignore: decorator
@inline function q4_0_block(s: usize, o: usize, scale: f32): void {
  q4_0_values(f16_to_f32(<u32>load<u16>(s)), s + 2, o, scale);
}

/** 16 nibble bytes at q (byte t: value t low, t + 16 high) to 32 floats d * (q - 8) * scale at o. */
// @ts-ignore: decorator
@inline export function q4_0_values(d: f32, q: usize, o: usize, scale: f32): void {
  const v = v128.load(q);
  const lo = i8x16.sub(v128.and(v, i8x16.splat(15)), i8x16.splat(8));
  const hi = i8x16.sub(i8x16.shr_u(v, 4), i8x16.splat(8));
  store8(o, f32x4.splat(d), f32x4.splat(scale), i16x8.extend_low_i8x16_s(lo), i16x8.extend_high_i8x16_s(lo), i16x8.extend_low_i8x16_s(hi), i16x8.extend_high_i8x16_s(hi));
}
