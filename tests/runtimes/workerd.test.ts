// Runtime matrix, workerd: examples/worker bundled against the packed package (wasm as module
// bindings, no runtime compilation), served on a free loopback port; GET /golden and GET /.
// Cold start = process start to the first HTTP answer.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ref as encoderRef } from "../encode/fixtures.js";
import { q4kmLlama } from "../formats/fixtures.js";
import { createRuntime } from "../../src/index.js";
import { relError } from "../model/helpers.js";
import {
  BIN, type GoldenReport, ROOT, demoTranslations, freePort, killChildren, nodeReference, makeConsumer, recordRow, removeDir, rowOf, runChild, startChild,
  problems,
} from "./harness.js";

const workerd = BIN("workerd");

/**
 * Starts workerd on a free loopback port and polls `path` (default GET /, which creates a
 * runtime and runs a kernel) until it answers; bounded at 20 s. Returns the server, the cold
 * start (process start -> that first answer) and the answer.
 */
async function startWorkerd(
  cwd: string, path = "/", init: RequestInit = {},
): Promise<{ server: ReturnType<typeof startChild>; base: string; ms: number; first: Response }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const server = startChild(workerd, ["serve", "config.capnp", "--socket-addr", `http=127.0.0.1:${port}`], { cwd });
  for (;;) {
    if (server.child.exitCode !== null) throw new Error(`workerd exited ${server.child.exitCode}:\n${server.output()}`);
    if (performance.now() - t0 > 20_000) {
      server.child.kill("SIGKILL");
      throw new Error(`workerd gave no answer in 20 s:\n${server.output()}`);
    }
    try {
      const res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(20_000) });
      const body = await res.arrayBuffer();
      return { server, base, ms: performance.now() - t0, first: new Response(body, { status: res.status }) };
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe.skipIf(!existsSync(workerd))("runtime matrix: workerd", () => {
  let dir: string;
  let base: string;
  let version = "";
  /** Process start -> first HTTP response, per start (ms). */
  const coldStarts: number[] = [];
  let firstTranslationMs: number | undefined;
  let reference: GoldenReport;
  let server: ReturnType<typeof startChild> | undefined;

  beforeAll(async () => {
    dir = makeConsumer("workerd");
    const ex = join(dir, "worker");
    mkdirSync(ex);
    copyFileSync(join(ROOT, "examples/worker/config.capnp"), join(ex, "config.capnp"));
    const build = await runChild(process.execPath, [join(ROOT, "examples/worker/build.mjs"), "--package", join(dir, "node_modules/simdformer"), "--out", join(ex, "out")], {
      cwd: ROOT, timeoutMs: 30_000,
    });
    if (build.code !== 0) throw new Error(`examples/worker/build.mjs failed:\n${build.stdout}\n${build.stderr}`);
    // What an edge deployment uploads besides the model: the bundled worker (package + golden
    // cases) and one wasm build.
    const size = (f: string) => {
      const b = readFileSync(join(ex, "out", f));
      return `${(b.length / 1024).toFixed(0)} KiB (${(gzipSync(b).length / 1024).toFixed(0)} KiB gzipped)`;
    };
    console.log(`workerd bundle: worker.js ${size("worker.js")}, simdformer.relaxed.wasm ${size("simdformer.relaxed.wasm")}`);
    const v = await runChild(workerd, ["--version"], { cwd: dir, timeoutMs: 10_000 });
    version = v.stdout.trim().replace(/^workerd\s+/, "");

    const first = await startWorkerd(ex);
    server = first.server;
    base = first.base;
    coldStarts.push(first.ms);
    reference = await nodeReference();
  }, 60_000);

  afterAll(() => {
    server?.child.kill("SIGKILL");
    killChildren();
    removeDir(dir);
  });

  test("cold start: process start -> first response, median of 3 starts", async () => {
    while (coldStarts.length < 3) {
      const extra = await startWorkerd(join(dir, "worker"));
      extra.server.child.kill("SIGKILL");
      coldStarts.push(extra.ms);
    }
    console.log(`workerd ${version}: cold start ${median(coldStarts).toFixed(0)} ms (median of ${coldStarts.map((m) => m.toFixed(0)).join(", ")})`);
    expect(median(coldStarts)).toBeLessThan(20_000);
  });

  test("GET / answers with features and a correct dot product", async () => {
    const res = await fetch(base + "/", { signal: AbortSignal.timeout(10_000) });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(Math.abs(body.dot - body.expected)).toBeLessThan(1e-3);
    expect(body.features.build).toBe("relaxed");
    expect(body.features.threads).toBe(1);
  });

  test("POST /translate answers with the default translator; cold start to first translation", async () => {
    // A fresh process whose first request is the translation: start, wasm, model load, one sentence.
    const [demo, other] = demoTranslations();
    const fresh = await startWorkerd(join(dir, "worker"), "/translate", { method: "POST", body: JSON.stringify({ text: demo.src }) });
    try {
      const res = fresh.first;
      const body = await res.json();
      firstTranslationMs = fresh.ms;
      console.log(`workerd: process start -> first translation ${firstTranslationMs.toFixed(0)} ms`);
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body.text).toBe(demo.text);
      // A second request reuses the loaded model.
      const t1 = performance.now();
      const again = await fetch(fresh.base + "/translate", {
        method: "POST", body: JSON.stringify({ text: other.src }), signal: AbortSignal.timeout(20_000),
      });
      expect((await again.json()).text).toBe(other.text);
      console.log(`workerd: warm translation ${(performance.now() - t1).toFixed(0)} ms`);
    } finally {
      fresh.server.child.kill("SIGKILL");
    }
  });

  test("GET /golden passes in the isolate, single-threaded, with the reason", async () => {
    const t0 = performance.now();
    const res = await fetch(base + "/golden", { signal: AbortSignal.timeout(20_000) });
    const report = (await res.json()) as GoldenReport & { error?: string };
    expect(report.error).toBeUndefined();
    console.log(`workerd /golden in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(report.runtime).toBe("workerd");
    expect(problems(report, reference)).toEqual([]);
    const auto = report.runs[0].features!;
    expect(auto.build).toBe("relaxed");
    expect(auto.host.threads).toBe(false);
    expect(auto.notes.join(" ")).toMatch(/no Worker/);
    recordRow(rowOf("workerd", { ...report, version }, { strictBitIdentical: true, coldStartMs: Math.round(median(coldStarts)), firstTranslationMs: firstTranslationMs && Math.round(firstTranslationMs), network: "loopback" }));
  });

  test("POST /embed answers with the sentence encoder's vectors, equal to PyTorch's", async () => {
    const { texts } = encoderRef.meta;
    const res = await fetch(base + "/embed", { method: "POST", body: JSON.stringify({ texts }), signal: AbortSignal.timeout(20_000) });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.dims).toBe(32);
    texts.forEach((_, i) => expect(relError(body.embeddings[i], encoderRef.tensor(`bert.${i}.mean_normalized`))).toBeLessThan(1e-5));
    const bad = await fetch(base + "/embed", { method: "POST", body: JSON.stringify({ texts: [1] }), signal: AbortSignal.timeout(10_000) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/expected \{"texts": string\[\]\}/);
  });

  test("POST /gguf: a ~100M-parameter Q4_K_M GGUF streams into a 128 MiB memory and answers Node's greedy ids", async () => {
    const { file, blockBytes } = q4kmLlama();
    writeFileSync(join(dir, "worker", "out", "assets", "edge-q4km.gguf"), file);
    const ids = [1, 523, 9071, 17];
    const res = await fetch(base + "/gguf", { method: "POST", body: JSON.stringify({ file: "edge-q4km.gguf", ids, maxNewTokens: 6 }), signal: AbortSignal.timeout(120_000) });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.weightsBytes).toBeGreaterThanOrEqual(blockBytes);
    expect(body.weightsBytes).toBeLessThan(blockBytes * 1.01 + 2 ** 20);
    expect(body.memoryBytes).toBeLessThanOrEqual(128 * 2 ** 20);
    // The same file on the same build in Node.
    const rt = await createRuntime({ build: "relaxed", threads: 1, maxMemory: 128 * 2 ** 20 });
    try {
      const tokenizer = { encode: () => ({ ids, tokens: [], unknown: [] }), decode: (v: ArrayLike<number>) => Array.from(v).join(" ") };
      const tm = await rt.loadModel(file, { tokenizer });
      const want: number[] = [];
      for await (const piece of tm.generate("ids", { maxNewTokens: 6, temperature: 0 })) want.push(piece.id);
      expect(body.ids).toEqual(want);
    } finally {
      rt.dispose();
    }
    console.log(`workerd: Q4_K_M ${(blockBytes / 2 ** 20).toFixed(1)} MiB of blocks, weights region ${(body.weightsBytes / 2 ** 20).toFixed(1)} MiB, memory ${(body.memoryBytes / 2 ** 20).toFixed(1)} MiB; ids ${body.ids.join(" ")}`);
  }, 180_000);

  test("POST /translate without a text is a 400 that says what it expected", async () => {
    const res = await fetch(base + "/translate", { method: "POST", body: "{}", signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/expected \{"text": string\}/);
  });

  test("an unknown route is a 404, not a crash", async () => {
    const res = await fetch(base + "/nope", { signal: AbortSignal.timeout(10_000) });
    expect(res.status).toBe(404);
  });
});
