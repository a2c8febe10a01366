// The import direction of src/ that the README's Architecture section states: every static
// `import` / `export ... from` and `import()` of src/**/*.ts is resolved to its folder, and must
// point down the layers below (type-only imports too); no folders import each other in a cycle,
// and no files do through value imports (a type-only import is erased, so it orders no module
// evaluation).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * The layers of src/, top to bottom: a folder may import any folder of a layer below its own,
 * never one beside it or above. "entry" is src/index.ts and src/runtime.ts; src/cli.ts
 * belongs to cli, src/errors.ts is errors.
 */
const LAYERS: readonly (readonly string[])[] = [
  ["cli"],
  ["bench"],
  ["entry"],
  ["generate", "encode", "viz"],
  ["load"],
  ["model"],
  ["ops"],
  ["kernels"],
  ["engine"],
  ["config"],
  ["tensor"],
  ["util"],
  ["errors"],
];

/** formats stand beside the compute stack: they import only these, and only load and the layers above it import them. */
const FORMATS_IMPORT: readonly string[] = ["config", "tensor", "util", "errors"];
const FORMATS_IMPORTED_FROM_RANK = LAYERS.findIndex((l) => l.includes("load"));

const ROOT_FILES: Readonly<Record<string, string>> = { "index.ts": "entry", "runtime.ts": "entry", "cli.ts": "cli", "errors.ts": "errors" };

const rank = (folder: string) => LAYERS.findIndex((l) => l.includes(folder));

/** The folder (layer member) of a file given relative to the repository ("src/ops/linear.ts" -> "ops"); undefined for an unknown one. */
function folderOf(file: string): string | undefined {
  const parts = file.split("/").slice(1);
  const folder = parts.length === 1 ? ROOT_FILES[parts[0]] : parts[0];
  return folder !== undefined && (folder === "formats" || rank(folder) >= 0) ? folder : undefined;
}

/** True when a file of folder `from` may import one of folder `to`. */
function allowed(from: string, to: string): boolean {
  if (from === to) return true;
  if (from === "formats") return FORMATS_IMPORT.includes(to);
  if (to === "formats") return rank(from) <= FORMATS_IMPORTED_FROM_RANK;
  return rank(from) < rank(to);
}

/** The folders `from` may import, for the failure message. */
function allowedFrom(from: string): string[] {
  return ["formats", ...LAYERS.flat()].filter((to) => to !== from && allowed(from, to));
}

/** One module specifier a source imports; `typeOnly` for `import type` / `export type`. */
interface Specifier {
  spec: string;
  typeOnly: boolean;
}

/**
 * The module specifiers a source imports: `import ... from "x"`, `import "x"`, `export ... from "x"`,
 * `import("x")` with a string literal, over several lines too. Comments are dropped first, so
 * examples in TSDoc do not count.
 */
function specifiers(source: string): Specifier[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: Specifier[] = [];
  const statement = /(?:^|[;}\s])(?:import|export)\s+(type\s+)?(?:[\w*${},\s]+?\s+from\s+)?["']([^"']+)["']/g;
  const dynamic = /\bimport\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of code.matchAll(statement)) out.push({ spec: m[2], typeOnly: m[1] !== undefined });
  for (const m of code.matchAll(dynamic)) out.push({ spec: m[1], typeOnly: false });
  return out;
}

/** One import of one file, resolved to a file of `files` (repository-relative). */
interface Edge {
  from: string;
  to: string;
  typeOnly?: boolean;
}

/** What is wrong with the imports of `files` (repository-relative path -> source): forbidden directions, unknown folders, unresolved imports, cycles. */
function importProblems(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const edges: Edge[] = [];
  for (const [file, source] of files) {
    if (folderOf(file) === undefined) problems.push(`${file}: folder not in the layer table (add it to LAYERS and to the README's Architecture section)`);
    for (const { spec, typeOnly } of specifiers(source)) {
      if (!spec.startsWith(".")) continue; // node:, packages
      const base = posix.normalize(posix.join(posix.dirname(file), spec));
      const to = [base.replace(/\.js$/, ".ts"), `${base}.ts`, `${base}/index.ts`].find((f) => files.has(f));
      if (to === undefined) problems.push(`${file}: import "${spec}" resolves to no file of src/`);
      else edges.push({ from: file, to, typeOnly });
    }
  }
  for (const { from, to } of edges) {
    const a = folderOf(from);
    const b = folderOf(to);
    if (a !== undefined && b !== undefined && !allowed(a, b)) {
      problems.push(`${from} imports ${to}: ${a} -> ${b} is not allowed (${a} may import ${allowedFrom(a).join(", ") || "nothing"})`);
    }
  }
  const folderEdges = edges.map((e) => ({ from: folderOf(e.from) ?? e.from, to: folderOf(e.to) ?? e.to })).filter((e) => e.from !== e.to);
  for (const c of cycles(folderEdges)) problems.push(`folders importing each other in a cycle: ${c.join(", ")}`);
  for (const c of cycles(edges.filter((e) => !e.typeOnly))) problems.push(`files importing each other in a cycle: ${c.join(", ")}`);
  return problems;
}

/** The strongly connected components of more than one node (Tarjan), each sorted. */
function cycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    next.set(from, [...(next.get(from) ?? []), to]);
    if (!next.has(to)) next.set(to, []);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1) found.push(scc.sort());
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** Every .ts file under src/, repository-relative with "/" separators. */
function sourceFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) files.set(relative(ROOT, p).split("\\").join("/"), readFileSync(p, "utf8"));
    }
  };
  walk(join(ROOT, "src"));
  return files;
}

describe("imports of src/", () => {
  it("point down the layers, with no cycle between folders or files", () => {
    const files = sourceFiles();
    expect(files.size).toBeGreaterThan(50);
    expect(importProblems(files)).toEqual([]);
  });
});

describe("the import check", () => {
  const ok = new Map([
    ["src/model/model.ts", 'import type { ModelConfig } from "../config/config.js";\nexport { Block } from "./block.js";'],
    ["src/model/block.ts", 'import {\n  linear,\n} from "../ops/linear.js";'],
    ["src/ops/linear.ts", 'const k = await import("../kernels/gemm.js");'],
    ["src/kernels/gemm.ts", 'import { f16ToF32 } from "../tensor/half.js";'],
    ["src/tensor/half.ts", 'import "node:fs";'],
    ["src/config/config.ts", ""],
    ["src/formats/gguf.ts", 'import type { ModelConfig } from "../config/config.js";'],
    ["src/index.ts", 'export { Model } from "./model/model.js";\nexport * from "./formats/gguf.js";'],
  ]);
  const withFile = (file: string, source: string) => new Map([...ok, [file, source]]);

  it("passes imports that point down, including formats from the entry", () => {
    expect(importProblems(ok)).toEqual([]);
  });

  it("reads every import form, and not the ones in comments", () => {
    const src = [
      'import a from "./a.js";',
      'import type { B } from "./b.js";',
      'import {\n  c,\n  d,\n} from "./c.js";',
      'export { e } from "./e.js";',
      'export * as f from "./f.js";',
      'import "./g.js";',
      'const h = await import("./h.js");',
      '// import x from "./x.js";',
      '/** @example import y from "./y.js"; */',
    ].join("\n");
    expect(specifiers(src).map((s) => s.spec).sort()).toEqual(["./a.js", "./b.js", "./c.js", "./e.js", "./f.js", "./g.js", "./h.js"]);
    expect(specifiers(src).filter((s) => s.typeOnly).map((s) => s.spec)).toEqual(["./b.js"]);
  });

  it("flags an upward import", () => {
    const problems = importProblems(withFile("src/ops/linear.ts", 'import type { Model } from "../model/model.js";'));
    expect(problems).toContainEqual(expect.stringContaining("src/ops/linear.ts imports src/model/model.ts: ops -> model is not allowed"));
  });

  it("flags formats importing the compute stack, and a layer below importing formats", () => {
    expect(importProblems(withFile("src/formats/gguf.ts", 'import { linear } from "../ops/linear.js";'))).toContainEqual(expect.stringContaining("formats -> ops is not allowed"));
    expect(importProblems(withFile("src/model/block.ts", 'import { GgufFile } from "../formats/gguf.js";'))).toContainEqual(expect.stringContaining("model -> formats is not allowed"));
  });

  it("flags an import across one layer", () => {
    const files = withFile("src/generate/text.ts", 'import { embed } from "../encode/encoder.js";');
    files.set("src/encode/encoder.ts", "");
    expect(importProblems(files)).toContainEqual(expect.stringContaining("generate -> encode is not allowed"));
  });

  it("counts a type-only import for the direction and the folder cycles, not for a file cycle", () => {
    const files = withFile("src/tensor/half.ts", 'import type { X } from "../kernels/gemm.js";');
    const problems = importProblems(files);
    expect(problems).toContainEqual(expect.stringContaining("tensor -> kernels is not allowed"));
    expect(problems).toContainEqual("folders importing each other in a cycle: kernels, tensor");
    expect(problems.filter((p) => p.startsWith("files importing"))).toEqual([]);
  });

  it("flags cycles of folders and of files, an unknown folder and an unresolved import", () => {
    const files = withFile("src/tensor/half.ts", 'import { x } from "../kernels/gemm.js";');
    const problems = importProblems(files);
    expect(problems).toContainEqual("folders importing each other in a cycle: kernels, tensor");
    expect(problems).toContainEqual("files importing each other in a cycle: src/kernels/gemm.ts, src/tensor/half.ts");
    expect(importProblems(withFile("src/shiny/new.ts", ""))).toContainEqual(expect.stringContaining("src/shiny/new.ts: folder not in the layer table"));
    expect(importProblems(withFile("src/ops/linear.ts", 'import { gone } from "../kernels/gone.js";'))).toContainEqual('src/ops/linear.ts: import "../kernels/gone.js" resolves to no file of src/');
  });
});
