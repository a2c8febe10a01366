// exp and log from IEEE-754 basic operations only (+ - * /, which every JS engine rounds the
// same way), so sampling and beam scores are bit-identical in V8, SpiderMonkey and JSC.
// Math.exp/Math.log are only specified as "implementation-approximated": engines use different
// libms, and a last-bit difference can flip a sampled token or a beam tie.

const LN2_HI = 6.93147180369123816490e-1; // upper bits of ln 2: k * LN2_HI is exact for |k| < 2^11
const LN2_LO = 1.90821492927058770002e-10; // ln 2 - LN2_HI
const INV_LN2 = 1.44269504088896338700;

const bits = new DataView(new ArrayBuffer(8));

/** 2^k for an integer k in -1074..1023 (exact), built from the exponent bits. */
function pow2(k: number): number {
  if (k < -1022) return pow2(k + 64) * pow2(-64); // subnormal result: one correctly rounded multiply
  bits.setUint32(0, 0, true); // little-endian: low word first
  bits.setUint32(4, (k + 1023) << 20, true);
  return bits.getFloat64(0, true);
}

/** POW2[k + 1074] = 2^k: a table lookup is several times faster than building the bits per call. */
const POW2 = Float64Array.from({ length: 1074 + 1024 }, (_, i) => pow2(i - 1074));

// 1/n! for the Taylor series of e^r.
const C2 = 1 / 2, C3 = 1 / 6, C4 = 1 / 24, C5 = 1 / 120, C6 = 1 / 720, C7 = 1 / 5040, C8 = 1 / 40320;
const C9 = 1 / 362880, C10 = 1 / 3628800, C11 = 1 / 39916800, C12 = 1 / 479001600, C13 = 1 / 6227020800;

/** e^x, deterministic across hosts; relative error ~2e-16 (about one ulp) for normal results. */
export function expDet(x: number): number {
  if (x !== x) return NaN;
  if (x > 709.782712893384) return Infinity;
  if (x < -745.1332191019412) return 0;
  const k = Math.round(x * INV_LN2);
  const r = x - k * LN2_HI - k * LN2_LO; // |r| <= ln2/2 (+ rounding)
  // Taylor series of e^r to r^13 (remainder < 1e-17 relative for |r| <= 0.35), Horner form.
  const p = 1 + r * (1 + r * (C2 + r * (C3 + r * (C4 + r * (C5 + r * (C6 + r * (C7 + r * (C8 + r * (C9 + r * (C10 + r * (C11 + r * (C12 + r * C13))))))))))));
  return k < -1022 ? p * POW2[k + 64 + 1074] * POW2[-64 + 1074] : p * POW2[k + 1074];
}

/** Natural log, deterministic across hosts; log(0) = -Infinity, negative or NaN -> NaN. */
export function logDet(x: number): number {
  if (!(x >= 0)) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let e = 0;
  if (x < 2.2250738585072014e-308) {
    x *= 18014398509481984; // 2^54: make a subnormal normal
    e = -54;
  }
  bits.setFloat64(0, x, true);
  const hi = bits.getUint32(4, true);
  e += ((hi >>> 20) & 0x7ff) - 1023;
  bits.setUint32(4, (hi & 0x000fffff) | 0x3ff00000, true); // mantissa m in [1, 2)
  let m = bits.getFloat64(0, true);
  if (m > Math.SQRT2) {
    m /= 2;
    e += 1;
  }
  // log m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172: series to s^23.
  const s = (m - 1) / (m + 1);
  const s2 = s * s;
  let p = 1 / 23;
  for (let n = 21; n >= 1; n -= 2) p = p * s2 + 1 / n;
  return e * LN2_HI + (e * LN2_LO + 2 * s * p);
}
