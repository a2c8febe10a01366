// Node 20 validates relaxed SIMD only behind a V8 flag; it must be set before any wasm compiles.
import v8 from "node:v8";

v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
