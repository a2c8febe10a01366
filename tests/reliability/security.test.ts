// No runtime code generation anywhere in the package: edge isolates and CSP pages forbid it,
// and a model file or prompt must never become code. Scans the sources and the built bundle
// (dist/, which `npm test` builds first) for eval, the Function constructor, string timers,
// eval'd workers and dynamic imports of computed specifiers.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

const FORBIDDEN: Array<[string, RegExp]> = [
  ["eval", /(?<![\w$.])eval\s*\(/],
  ["indirect eval", /\(\s*0\s*,\s*eval\s*\)|globalThis\s*\.\s*eval|window\s*\.\s*eval/],
  ["Function constructor", /new\s+Function\s*\(|(?<![\w$.])Function\s*\(\s*["'`]/],
  ["string timer", /set(Timeout|Interval|Immediate)\s*\(\s*["'`]/],
  ["eval'd worker", /eval\s*:\s*true/],
  ["dynamic import of a computed specifier", /(?<![\w$.])import\s*\(\s*(?!["'`]|\))/],
  ["WebAssembly from a string", /WebAssembly\.(compile|instantiate)\s*\(\s*(atob|Buffer\.from)\s*\(/],
];

/** Comments are stripped first: docs may mention eval. Strings are kept (a string timer is a string). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

function files(dir: string, ext: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === "types" ? [] : files(p, ext);
    return ext.test(name) ? [p] : [];
  });
}

function findings(text: string): string[] {
  const c = code(text);
  return FORBIDDEN.filter(([, re]) => re.test(c)).map(([what]) => what);
}

describe("no runtime code generation", () => {
  it("the scanner finds each forbidden form (and not their mentions in comments)", () => {
    expect(findings('const f = new Function("return 1");')).toEqual(["Function constructor"]);
    expect(findings("x = eval(src)")).toEqual(["eval"]);
    expect(findings("(0, eval)(s)")).toContain("indirect eval");
    expect(findings('setTimeout("alert(1)", 5)')).toEqual(["string timer"]);
    expect(findings("new Worker(src, { eval: true })")).toEqual(["eval'd worker"]);
    expect(findings("await import(userUrl)")).toEqual(["dynamic import of a computed specifier"]);
    expect(findings('await import("node:os"); medieval(); x.eval(y); // eval(z)\n/* new Function("") */')).toEqual([]);
  });

  it("src/ has none", () => {
    const list = files(join(root, "src"), /\.ts$/);
    expect(list.length).toBeGreaterThan(40);
    const bad = list.map((f) => [f, findings(readFileSync(f, "utf8"))] as const).filter(([, found]) => found.length > 0);
    expect(bad).toEqual([]);
  });

  it("the built bundle (dist/) has none", () => {
    const list = files(join(root, "dist"), /\.m?js$/);
    expect(list.length, "dist/ is built by npm test before vitest").toBeGreaterThan(2);
    const bad = list.map((f) => [f, findings(readFileSync(f, "utf8"))] as const).filter(([, found]) => found.length > 0);
    expect(bad).toEqual([]);
  });
});
