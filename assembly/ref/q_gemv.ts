// Scalar twins of ../q_gemv.ts: same layout (../q_pack.ts), same ABI. Integer block sums
// are exact and the f32 steps (acc += f32(isum) * (dw * dx), blocks in order) match the
// strict SIMD build, so the two agree to the bit.
import { act_f32 } from "../math";
import { GEMM_ACCUMULATE } from "../pack";
import { f16_round, PR, QK, XQ_BYTES } from "../q_pack";
import { QK_K } from "../qk_blocks";

/** Scalar twin of q8_quantize_rows. */
export function q8_quantize_rows(m: i32, k: i32, x: usize, ldx: i32, xq: usize): void {
  const nb = k / QK;
  for (let i = 0; i < m; i++) {
    const row = x + ((<usize>i * <usize>ldx) << 2);
    for (let b = 0; b < nb; b++) {
      const xp = row + (<usize>(b * QK) << 2);
      let amax: f32 = 0;
      for (let t = 0; t < QK; t++) amax = max(amax, abs(load<f32>(xp + (<usize>t << 2))));
      quantize_block(xp, amax != 0 ? <f32>127 / amax : 0, f16_round(amax / 127), xq + (<usize>i * <usize>nb + <usize>b) * XQ_BYTES);
    }
  }
}

/** Scalar twin of q8k_quantize_rows. */
export function q8k_quantize_rows(m: i32, k: i32, x: usize, ldx: i32, xq: usize): void {
  const nb = k / QK;
  for (let i = 0; i < m; i++) {
    const row = x + ((<usize>i * <usize>ldx) << 2);
    for (let s = 0; s < nb; s += 8) {
      const xp = row + (<usize>(s * QK) << 2);
      let amax: f32 = 0;
      for (let t = 0; t < QK_K; t++) amax = max(amax, abs(load<f32>(xp + (<usize>t << 2))));
      let mx = amax;
      for (let t = 0; amax == amax && t < QK_K; t++) {
        const v = load<f32>(xp + (<usize>t << 2));
        if (abs(v) == amax) {
          mx = v;
          break;
        }
      }
      const iscale: f32 = amax != 0 ? <f32>-127 / mx : 0;
      const d: f32 = amax != 0 ? <f32>1 / iscale : 0;
      for (let b = 0; b < 8; b++) quantize_block(xp + (<usize>(b * QK) << 2), iscale, d, xq + (<usize>i * <usize>nb + <usize>(s + b)) * XQ_BYTES);
    }
  }
}

/** One record: the 32 floats at xp times id, rounded (NaN -> 0), with scale d and the quants' sum. */
function quantize_block(xp: usize, id: f32, d: f32, out: usize): void {
  let lo = 0, hi = 0;
  for (let t = 0; t < QK; t++) {
    const v = nearest(load<f32>(xp + (<usize>t << 2)) * id);
    // i32x4.trunc_sat_f32x4_s: NaN -> 0.
    const q = v != v ? 0 : <i32>v;
    store<i16>(out + (<usize>t << 1), <i16>q);
    store<i8>(out + 64 + <usize>t, <i8>q);
    if (t < 16) lo += q;
    else hi += q;
  }
  store<f32>(out, d, 96);
  store<i32>(out, lo + hi, 100);
  store<i16>(out, <i16>lo, 104);
  store<i16>(out, <i16>hi, 106);
}

/** Row j of the packed W against one quantized row of x. */
function rowDot(q4: bool, nb: i32, xq: usize, quants: usize, scales: usize, j: i32): f32 {
  const p = <usize>(j / PR);
  const t = <usize>(j % PR);
  const qb: usize = q4 ? 16 : 32;
  let acc: f32 = 0;
  for (let b = 0; b < nb; b++) {
    const slot = p * <usize>nb + <usize>b;
    const qp = quants + (slot * PR + t) * qb;
    const xr = xq + <usize>b * XQ_BYTES;
    let isum = 0;
    for (let u = 0; u < QK; u++) {
      let w: i32;
      if (q4) {
        const byte = <i32>load<u8>(qp + <usize>(u & 15));
        w = (u < 16 ? byte & 15 : byte >> 4) - 8;
      } else {
        w = <i32>load<i8>(qp + <usize>u);
      }
      isum += w * <i32>load<i8>(xr + 64 + <usize>u);
    }
    acc += <f32>isum * (load<f32>(scales + ((slot * PR + t) << 2)) * load<f32>(xr, 96));
  }
  return acc;
}

function qgemm(q4: bool, m: i32, n: i32, k: i32, xq: usize, quants: usize, scales: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  const nb = k / QK;
  for (let i = 0; i < m; i++) {
    const x = xq + <usize>i * <usize>nb * XQ_BYTES;
    const crow = c + ((<usize>i * <usize>ldc) << 2);
    for (let j = 0; j < n; j++) {
      let s = rowDot(q4, nb, x, quants, scales, j);
      const cp = crow + (<usize>j << 2);
      if (bias) s += load<f32>(bias + (<usize>j << 2));
      s = act_f32(s, flags & 0xff);
      if (flags & GEMM_ACCUMULATE) s += load<f32>(cp);
      store<f32>(cp, s);
    }
  }
}

/** Scalar twin of q8_0_gemv. */
export function q8_0_gemv(n: i32, k: i32, xq: usize, quants: usize, scales: usize, y: usize, bias: usize, flags: i32): void {
  qgemm(false, 1, n, k, xq, quants, scales, y, 0, bias, flags);
}

/** Scalar twin of q4_0_gemv. */
export function q4_0_gemv(n: i32, k: i32, xq: usize, quants: usize, scales: usize, y: usize, bias: usize, flags: i32): void {
  qgemm(true, 1, n, k, xq, quants, scales, y, 0, bias, flags);
}

/** Scalar twin of q8_0_gemm. */
export function q8_0_gemm(m: i32, n: i32, k: i32, xq: usize, quants: usize, scales: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  qgemm(false, m, n, k, xq, quants, scales, c, ldc, bias, flags);
}

/** Scalar twin of q4_0_gemm. */
export function q4_0_gemm(m: i32, n: i32, k: i32, xq: usize, quants: usize, scales: usize, c: usize, ldc: i32, bias: usize, flags: i32): void {
  qgemm(true, m, n, k, xq, quants, scales, c, ldc, bias, flags);
}
