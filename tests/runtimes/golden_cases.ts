// The golden cases of the runtime matrix: inputs from the kernel registry's makeCase with
// fixed seeds, expected outputs from its float64 reference. tests/runtimes/make_golden.mjs
// writes them to tests/fixtures/runtimes/golden.json; golden_fixture.test.ts checks the
// stored file still equals what this produces.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseSafetensors } from "../../src/formats/safetensors.js";
import { type Dims, KERNELS } from "../../src/bench/index.js";
import { Rng } from "../../src/util/rng.js";

/**
 * One entry per kernel: the shapes every runtime runs (small: the fixture ships to browsers
 * and isolates), as the registry entry's dims. `split` runs a shape as that many tasks
 * through the engine's thread pool. A kernel added here needs its call in golden.js KERNEL_CALLS.
 */
export const GOLDEN_KERNELS: Array<{ kernel: string; dims: Array<Dims & { split?: number }> }> = [
  { kernel: "f32_add", dims: [{ n: 5 }, { n: 37 }, { n: 1031, split: 4 }] },
  { kernel: "f32_dot", dims: [{ n: 9 }, { n: 263 }] },
  {
    kernel: "f32_gemm",
    dims: [
      { m: 5, k: 13, n: 9 },
      { m: 7, k: 31, n: 17, bias: 1, act: 2 },
      { m: 5, k: 13, n: 9, bt: 1, acc: 1 },
      { m: 13, k: 61, n: 31, bias: 1, split: 3 },
    ],
  },
  {
    kernel: "f32_softmax",
    dims: [
      { rows: 5, n: 13, mask: 1, causal: -1 },
      { rows: 6, n: 17, mask: 1, causal: 2, split: 2 },
    ],
  },
  { kernel: "f32_layernorm", dims: [{ rows: 3, n: 37, beta: 1 }, { rows: 4, n: 13, beta: 0, split: 2 }] },
];

/** Non-finite numbers do not survive JSON: stored as their String(). */
const nonFinite = (x: number): number | string | undefined => (Number.isFinite(x) ? undefined : String(x));

/** An f32 input as the shortest decimal that reads back as the same f32 (keeps the file small). */
function f32Json(x: number): number | string {
  const s = nonFinite(x);
  if (s !== undefined) return s;
  for (let p = 1; p < 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

/** A float64 reference to 12 significant digits: far below every tolerance (>= 1e-7 relative). */
const refJson = (x: number): number | string => nonFinite(x) ?? Number(x.toPrecision(12));

export interface GoldenKernelCase {
  name: string;
  kind: "kernel";
  kernel: string;
  dims: Dims;
  /** Run as this many tasks through the thread pool (absent: one call). */
  split?: number;
  params: Record<string, number>;
  inputs: Record<string, Array<number | string>>;
  expected: Array<number | string>;
  tolerance: { abs: number; rel: number };
  /** What tolerance.rel is relative to (the registry's errorScale, default max |reference|). */
  scale: number;
}

/** A model run: greedy ids from PyTorch that every host must reproduce exactly. */
export interface GoldenGreedyCase {
  name: string;
  kind: "greedy";
  /** Asset name (a key of GoldenFixture.assets). */
  model: string;
  src?: number[][];
  prompts?: number[][];
  maxNewTokens?: number;
  expected: number[][];
}

/** Sentences through rt.loadModel() + translate(): PyTorch's ids and their text. */
export interface GoldenTranslateCase {
  name: string;
  kind: "translate";
  /** Asset name of the model, for hosts that cannot locate the embedded one. */
  model: string;
  sentences: string[];
  expected: Array<{ ids: number[]; text: string }>;
}

export interface GoldenFixture {
  generator: string;
  /** Files the cases need, by name: repository paths; each host driver ships them its way. */
  assets: Record<string, string>;
  cases: Array<GoldenKernelCase | GoldenGreedyCase | GoldenTranslateCase>;
}

/**
 * Model cases, one entry per model file: its asset name, repository path, and the case made
 * from files of the repository (`read` takes a repository path), with PyTorch's outputs.
 */
export const GOLDEN_MODELS: Array<{
  asset: string;
  path: string;
  make(read: (path: string) => Uint8Array): Omit<GoldenGreedyCase, "model"> | Omit<GoldenTranslateCase, "model">;
}> = [
  {
    // tools/torch_fixtures.py's GPT-2-style decoder: greedy ids stored by PyTorch in its metadata.
    asset: "gpt2.safetensors",
    path: "tests/fixtures/torch/gpt2.safetensors",
    make(read) {
      const file = parseSafetensors(read("tests/fixtures/torch/gpt2.safetensors"), "gpt2.safetensors");
      const meta = JSON.parse(file.metadata.fixture) as { prompts: number[][]; greedy: number[][] };
      return { kind: "greedy", name: "gpt2-style decoder, greedy ids = PyTorch", prompts: meta.prompts, maxNewTokens: 10, expected: meta.greedy };
    },
  },
  {
    // The package's default translator (tools/translator): the demo sentences, PyTorch's greedy
    // ids and text from tests/fixtures/translator/heldout.json.
    asset: "translator.safetensors",
    path: "models/default/translator.safetensors",
    make(read) {
      const fx = JSON.parse(new TextDecoder().decode(read("tests/fixtures/translator/heldout.json"))) as {
        demos: Array<{ src: string; pred_ids: number[]; pred: string }>;
      };
      return {
        kind: "translate",
        name: "default translator, demo sentences, ids = PyTorch",
        sentences: fx.demos.map((d) => d.src),
        expected: fx.demos.map((d) => ({ ids: d.pred_ids, text: d.pred })),
      };
    },
  },
];

/** The fixture; `root` is the repository (model assets are read from it). */
export function makeGolden(root: string): GoldenFixture {
  const cases: GoldenFixture["cases"] = [];
  let seed = 9001;
  for (const g of GOLDEN_KERNELS) {
    const entry = KERNELS.find((e) => e.name === g.kernel);
    if (!entry) throw new Error(`golden: kernel ${g.kernel} is not in the registry`);
    for (const { split, ...dims } of g.dims) {
      const c = entry.makeCase(dims, new Rng(seed++));
      const ref = entry.reference(c);
      let scale = 0;
      if (entry.errorScale) scale = entry.errorScale(c);
      else for (const x of ref) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
      cases.push({
        name: `${g.kernel} ${Object.entries(dims).map(([k, v]) => `${k}=${v}`).join(" ")}${split ? ` split=${split}` : ""}`,
        kind: "kernel",
        kernel: g.kernel,
        dims,
        ...(split ? { split } : {}),
        params: c.params,
        inputs: Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, Array.from(v, f32Json)])),
        expected: Array.from(ref, refJson),
        tolerance: entry.tolerance,
        scale,
      });
    }
  }
  const assets: Record<string, string> = {};
  const read = (path: string) => new Uint8Array(readFileSync(join(root, path)));
  for (const m of GOLDEN_MODELS) {
    assets[m.asset] = m.path;
    const c = m.make(read);
    cases.push(c.kind === "greedy" ? { ...c, model: m.asset } : { ...c, model: m.asset });
  }
  return { generator: "tests/runtimes/golden_cases.ts (write with: node tests/runtimes/make_golden.mjs)", assets, cases };
}
