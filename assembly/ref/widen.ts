// Scalar twins of ../widen.ts: same ABI and the same in-place rule. Values are converted front
// to back, so with the source in the destination's tail the float written for value t ends
// before the first byte not yet read (q8_0: 4t + 4 <= 96 + t + 1 for t < 32; q4_0 writes t and
// t + 16 from byte t: 64 + 4t + 4 <= 112 + t + 1 for t < 16).
import { f16_to_f32 } from "../q_pack";

/** Scalar twin of f16_widen. */
export function f16_widen(n: i32, src: usize, dst: usize): void {
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), f16_to_f32(<u32>load<u16>(src + (<usize>i << 1))));
}

/** Scalar twin of bf16_widen. */
export function bf16_widen(n: i32, src: usize, dst: usize): void {
  for (let i = 0; i < n; i++) store<u32>(dst + (<usize>i << 2), <u32>load<u16>(src + (<usize>i << 1)) << 16);
}

/** Scalar twin of q8_0_dequant. */
export function q8_0_dequant(nb: i32, src: usize, dst: usize): void {
  for (let b = 0; b < nb; b++) q8_0_block(src + <usize>b * 34, dst + (<usize>b << 7), 1);
}

/** One q8_0 block at s (f16 d, then the quants) to 32 floats at o. */
function q8_0_block(s: usize, o: usize, scale: f32): void {
  q8_0_values(f16_to_f32(<u32>load<u16>(s)), s + 2, o, scale);
}

/** Scalar twin of q8_0_values (../widen.ts): 32 int8 quants at q to (d q) * scale at o. */
export function q8_0_values(d: f32, q: usize, o: usize, scale: f32): void {
  for (let t = 0; t < 32; t++) store<f32>(o + (<usize>t << 2), d * <f32>load<i8>(q + <usize>t) * scale);
}

/** Scalar twin of q4_0_dequant. */
export function q4_0_dequant(nb: i32, src: usize, dst: usize): void {
  for (let b = 0; b < nb; b++) q4_0_block(src + <usize>b * 18, dst + (<usize>b << 7), 1);
}

/** One q4_0 block at s (f16 d, then 16 nibble bytes) to 32 floats at o. */
function q4_0_block(s: usize, o: usize, scale: f32): void {
  q4_0_values(f16_to_f32(<u32>load<u16>(s)), s + 2, o, scale);
}

/** Scalar twin of q4_0_values: 16 nibble bytes at q to (d (q - 8)) * scale at o. */
export function q4_0_values(d: f32, q: usize, o: usize, scale: f32): void {
  for (let t = 0; t < 16; t++) {
    const b = <i32>load<u8>(q + <usize>t);
    store<f32>(o + (<usize>t << 2), d * <f32>((b & 15) - 8) * scale);
    store<f32>(o + (<usize>(t + 16) << 2), d * <f32>((b >> 4) - 8) * scale);
  }
}
