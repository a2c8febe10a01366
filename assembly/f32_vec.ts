import { madd, hsum } from "./common";

/** out[i] = a[i] + b[i] for i < n. out may alias a or b. */
export function f32_add(n: i32, a: usize, b: usize, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}

/** Sum of a[i] * b[i] for i < n, accumulated in four lanes x two registers. */
export function f32_dot(n: i32, a: usize, b: usize): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    acc0 = madd(v128.load(a + o), v128.load(b + o), acc0);
    acc1 = madd(v128.load(a + o, 16), v128.load(b + o, 16), acc1);
  }
  let s = hsum(f32x4.add(acc0, acc1));
  for (; i < n; i++) {
    const o = <usize>i << 2;
    s += load<f32>(a + o) * load<f32>(b + o);
  }
  return s;
}

/**
 * dst row r = src row r, n floats each (row strides lds, ldd): e.g. new keys and values into
 * a KV cache inside a plan. Rows must not overlap. No alignment needed.
 */
export function f32_copy_rows(rows: i32, n: i32, src: usize, lds: i32, dst: usize, ldd: i32): void {
  const bytes = <usize>n << 2;
  for (let r = 0; r < rows; r++) {
    memory.copy(dst + ((<usize>r * <usize>ldd) << 2), src + ((<usize>r * <usize>lds) << 2), bytes);
  }
}
