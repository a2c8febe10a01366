// What an entry of dist/ ships: the entry and every chunk it imports (statically or
// dynamically, transitively), with their gzipped sizes. Used by scripts/build.mjs (the printed
// figure), tests/runtimes/bundle.test.ts and bench/e2e.bench.ts (the shipped-size rows).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/** The wasm build counted with the JS in the README's figure: the portable strict SIMD one. */
export const FIGURE_WASM = "wasm/simdformer.simd.wasm";

/** `entry` (a file name in `distDir`) and the chunks it reaches, in visiting order. */
export function importGraph(distDir, entry) {
  const seen = new Set();
  const visit = (f) => {
    if (seen.has(f)) return;
    seen.add(f);
    const src = readFileSync(join(distDir, f), "utf8");
    for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']\.\/([^"']+\.js)["']/g)) visit(m[1]);
  };
  visit(entry);
  return [...seen];
}

/** Bytes and gzipped bytes (level 9) of each file of `files` in `dir`, and their sums. */
export function sizeOf(dir, files) {
  const rows = files.map((file) => {
    const b = readFileSync(join(dir, file));
    return { file, bytes: b.length, gzip: gzipSync(b, { level: 9 }).length };
  });
  return { files: rows, bytes: rows.reduce((s, r) => s + r.bytes, 0), gzip: rows.reduce((s, r) => s + r.gzip, 0) };
}

/** What `import "simdformer"` ships: dist/index.js with its chunks, plus one wasm build. */
export function shippedSize(distDir) {
  return sizeOf(distDir, [...importGraph(distDir, "index.js"), FIGURE_WASM]);
}
