// 16-bit floats as files store them: IEEE half (F16) and bfloat16 (BF16, the top half of a
// float32), widened to float32 for the kernels and narrowed back when writing or quantizing
// (the quantized blocks keep their scales as halves).

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

let F16_TABLE: Float32Array | undefined;

/**
 * Every half value widened once (256 KiB): reading a large F16 file is then one lookup per
 * value. Normal halves are built by moving bits (the exponent rebias is exact); only zero,
 * subnormals, infinities and NaN go through f16ToF32.
 */
export function f16Table(): Float32Array {
  if (!F16_TABLE) {
    F16_TABLE = new Float32Array(65536);
    const bits = new Uint32Array(F16_TABLE.buffer);
    for (let h = 0; h < 65536; h++) {
      const e = (h >> 10) & 0x1f;
      if (e === 0 || e === 31) F16_TABLE[h] = f16ToF32(h);
      else bits[h] = ((h & 0x8000) << 16) | ((e + 112) << 23) | ((h & 0x3ff) << 13);
    }
  }
  return F16_TABLE;
}

/** IEEE half -> float (subnormals, infinities and NaN included). */
export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** One float and its bits, shared by every f32ToF16 call (a fresh pair per value made writing a large F16 file allocation-bound). */
const F32_SCRATCH = new Float32Array(1);
const F32_SCRATCH_BITS = new Uint32Array(F32_SCRATCH.buffer);

/** float -> IEEE half, round to nearest even. */
export function f32ToF16(x: number): number {
  F32_SCRATCH[0] = x;
  const b = F32_SCRATCH_BITS[0];
  const sign = (b >>> 16) & 0x8000;
  const e = (b >>> 23) & 0xff;
  let m = b & 0x7fffff;
  if (e === 0xff) return sign | 0x7c00 | (m ? 0x200 : 0);
  let he = e - 127 + 15;
  if (he >= 31) return sign | 0x7c00;
  if (he <= 0) {
    if (he < -10) return sign;
    m |= 0x800000;
    const shift = 14 - he;
    let hm = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && hm & 1)) hm++;
    return sign | hm;
  }
  let hm = m >>> 13;
  const rem = m & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && hm & 1)) {
    hm++;
    if (hm === 0x400) {
      hm = 0;
      he++;
      if (he >= 31) return sign | 0x7c00;
    }
  }
  return sign | (he << 10) | hm;
}

/**
 * Widens `out.length` little-endian halves (F16 exactly through f16Table, BF16 by moving bits)
 * from `src` into `out`. Aligned bytes on a little-endian host are read through a Uint16Array
 * view, ~3x faster than DataView calls (it matters for cold loads); others through a DataView.
 */
export function widenHalves(dtype: "F16" | "BF16", src: Uint8Array, out: Float32Array): void {
  const n = out.length;
  if (littleEndian && src.byteOffset % 2 === 0) {
    const half = new Uint16Array(src.buffer, src.byteOffset, n);
    if (dtype === "F16") widenF16(half, out, f16Table());
    else widenBf16(half, new Uint32Array(out.buffer, out.byteOffset, n));
    return;
  }
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  if (dtype === "F16") {
    const table = f16Table();
    for (let i = 0; i < n; i++) out[i] = table[dv.getUint16(2 * i, true)];
  } else {
    const bits = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
  }
}

// Small loops of their own, so they are optimized early in a cold process.
function widenF16(half: Uint16Array, out: Float32Array, table: Float32Array): void {
  for (let i = 0; i < half.length; i++) out[i] = table[half[i]];
}

function widenBf16(half: Uint16Array, out: Uint32Array): void {
  for (let i = 0; i < half.length; i++) out[i] = half[i] << 16;
}
