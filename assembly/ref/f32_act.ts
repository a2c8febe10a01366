// Scalar twins of ../f32_act.ts over the scalar forms of ../math.ts.
import { gelu_f32, gelu_tanh_f32, relu_f32, silu_f32, tanh_f32 } from "../math";

/** Scalar twin of f32_relu. */
export function f32_relu(n: i32, x: usize, out: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, relu_f32(load<f32>(x + o)));
  }
}

/** Scalar twin of f32_gelu. */
export function f32_gelu(n: i32, x: usize, out: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, gelu_f32(load<f32>(x + o)));
  }
}

/** Scalar twin of f32_gelu_tanh. */
export function f32_gelu_tanh(n: i32, x: usize, out: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, gelu_tanh_f32(load<f32>(x + o)));
  }
}

/** Scalar twin of f32_silu. */
export function f32_silu(n: i32, x: usize, out: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, silu_f32(load<f32>(x + o)));
  }
}

/** Scalar twin of f32_swiglu. */
export function f32_swiglu(n: i32, gate: usize, up: usize, out: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, silu_f32(load<f32>(gate + o)) * load<f32>(up + o));
  }
}

/** Scalar twin of f32_geglu. */
export function f32_geglu(n: i32, gate: usize, up: usize, out: usize): void {
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, gelu_tanh_f32(load<f32>(gate + o)) * load<f32>(up + o));
  }
}

/** Scalar twin of f32_softcap. */
export function f32_softcap(n: i32, x: usize, out: usize, scale: f32, cap: f32): void {
  const s: f32 = scale / cap;
  for (let i = 0; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, tanh_f32(load<f32>(x + o) * s) * cap);
  }
}
