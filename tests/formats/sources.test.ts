// loadModel's sources: bytes, a path, a Blob, a ReadableStream and a Response give the same
// logits (Hugging Face folders: a directory path, { files } of bytes and { files } of Blobs, F32,
// F16 and sharded); progress is reported up to the file's size; a truncated stream, a stream that errors
// midway and an aborted load are typed errors that leave the runtime's memory as it was, with
// canary blocks in every region intact.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortError, createRuntime, type LoadProgress, ModelFormatError, ReadError, type Runtime } from "../../src/index.js";
import type { TextModel } from "../../src/generate/text.js";
import { parseSafetensors, writeSafetensors } from "../../src/formats/safetensors.js";
import { fixtureBytes, fixtureDir, FORMATS_DIR, ref } from "./fixtures.js";
import { Canaries } from "../engine/canaries.js";

/** The fixture files of one Llama in each single-file format, with the tokenizer given in the options. */
const FILES: Array<[string, string]> = [
  ["llama2.c", "llama2c/model.bin"],
  ["GGUF", "llama.gguf"],
  ["GGUF quantized", "llama_q.gguf"],
];

/** A stream handing out `bytes` in chunks of `chunk`, then ending (or failing at byte `failAt`). */
function streamOf(bytes: Uint8Array, chunk: number, failAt = Infinity): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= failAt) return c.error(new Error("connection reset"));
      if (at >= bytes.byteLength) return c.close();
      const n = Math.min(chunk, bytes.byteLength - at, failAt - at);
      c.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
}

describe("loadModel sources", () => {
  let rt: Runtime;
  let canaries: Canaries;
  const usage = () => ({ weights: rt.engine.regions.weights.usedBytes, kv: rt.engine.regions.kv.usedBytes, used: rt.engine.mem.usedBytes });
  // Tokenizers do not matter here: the bytes of the weights do.
  const tokenizer = { encode: () => ({ ids: [], tokens: [], unknown: [] }), decode: () => "" };

  beforeAll(async () => {
    rt = await createRuntime({ threads: 1 });
    canaries = new Canaries(rt.engine, 5);
  });
  afterAll(() => {
    canaries.expectIntact();
    canaries.release();
    rt.dispose();
  });

  const logitsOf = async (tm: TextModel) => {
    const { logits } = await tm.model.forward({ tokens: [ref.meta.llama.prompt] });
    tm.dispose();
    return logits![0];
  };

  it.each(FILES)("%s: bytes, path, Blob, ReadableStream and Response give identical logits", async (_, name) => {
    const bytes = fixtureBytes(name);
    const path = fileURLToPath(new URL(name, FORMATS_DIR));
    const want = await logitsOf(await rt.loadModel(bytes, { tokenizer }));
    const sources: Array<[string, () => unknown]> = [
      ["path", () => path],
      ["file URL", () => new URL(name, FORMATS_DIR)],
      ["Blob", () => new Blob([bytes as Uint8Array<ArrayBuffer>])],
      ["ReadableStream", () => streamOf(bytes, 1000)],
      ["Response", () => new Response(streamOf(bytes, 4096))],
    ];
    for (const [what, make] of sources) {
      const got = await logitsOf(await rt.loadModel(make() as Blob, { tokenizer }));
      expect(got, what).toEqual(want);
    }
  });

  /** The llama fixture folder with its weights rewritten as F16 (widened by the loader's wasm kernel). */
  const llamaF16 = (): Record<string, Uint8Array> => {
    const { files } = fixtureDir("llama");
    const st = parseSafetensors(files["model.safetensors"]);
    const tensors = Object.fromEntries([...st.tensors.keys()].map((n) => [n, { shape: [...st.shape(n)], data: st.read(n) }]));
    return { ...files, "model.safetensors": writeSafetensors(tensors, undefined, "F16") };
  };
  const HF: Array<[string, () => Record<string, Uint8Array>, number[]]> = [
    ["llama F32", () => fixtureDir("llama").files, ref.meta.llama.prompt],
    ["llama F16", llamaF16, ref.meta.llama.prompt],
    ["GPT-2, two shards", () => fixtureDir("gpt2").files, ref.meta.gpt2.prompt],
  ];

  it.each(HF)("Hugging Face %s: a directory path, { files } of bytes and of Blobs give identical logits", async (_, make, prompt) => {
    const files = make();
    const dir = mkdtempSync(join(tmpdir(), "simdformer-hf-"));
    try {
      for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
      const logits = async (tm: TextModel) => {
        const { logits: l } = await tm.model.forward({ tokens: [prompt] });
        tm.dispose();
        return l![0];
      };
      const want = await logits(await rt.loadModel({ files }));
      const blobs = Object.fromEntries(Object.entries(files).map(([n, b]) => [n, new Blob([b as Uint8Array<ArrayBuffer>])]));
      expect(await logits(await rt.loadModel(dir)), "path").toEqual(want);
      expect(await logits(await rt.loadModel({ files: blobs })), "Blobs").toEqual(want);
      expect(want.every(Number.isFinite)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reports progress up to the file's size, in order", async () => {
    const bytes = fixtureBytes("llama.gguf");
    const seen: LoadProgress[] = [];
    const tm = await rt.loadModel(new Blob([bytes as Uint8Array<ArrayBuffer>]), { tokenizer, onProgress: (p) => seen.push({ ...p }) });
    tm.dispose();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)).toEqual({ bytesDone: bytes.byteLength, bytesTotal: bytes.byteLength });
    for (let i = 1; i < seen.length; i++) expect(seen[i].bytesDone).toBeGreaterThan(seen[i - 1].bytesDone);
  });

  it("a truncated stream, a stream that errors and an aborted load are typed errors; memory as it was", async () => {
    const bytes = fixtureBytes("llama2c/model.bin");
    const before = usage();
    await expect(rt.loadModel(streamOf(bytes.subarray(0, bytes.byteLength - 100), 997), { tokenizer })).rejects.toThrow(ModelFormatError);
    expect(usage()).toEqual(before);
    const failing = rt.loadModel(streamOf(bytes, 997, 50_000), { tokenizer });
    await expect(failing).rejects.toThrow(ReadError);
    await expect(failing).rejects.toThrow(/after 50000 bytes: connection reset/);
    expect(usage()).toEqual(before);
    const ac = new AbortController();
    const aborted = rt.loadModel(streamOf(bytes, 997), {
      tokenizer, signal: ac.signal, onProgress: ({ bytesDone }) => bytesDone > 20_000 && ac.abort("user cancelled"),
    });
    await expect(aborted).rejects.toThrow(AbortError);
    await expect(aborted).rejects.toThrow(/user cancelled/);
    expect(usage()).toEqual(before);
    const already = new AbortController();
    already.abort();
    await expect(rt.loadModel(fileURLToPath(new URL("llama.gguf", FORMATS_DIR)), { tokenizer, signal: already.signal })).rejects.toThrow(AbortError);
    expect(usage()).toEqual(before);
  });

  it("options are checked", async () => {
    await expect(rt.loadModel(new Uint8Array(8), { onProgress: 5 as never })).rejects.toThrow(/onProgress: expected a function, found number/);
    await expect(rt.loadModel(new Uint8Array(8), { signal: "x" as never })).rejects.toThrow(/signal: expected an AbortSignal, found string/);
    await expect(rt.loadModel(42 as never)).rejects.toThrow(/^loadModel: expected bytes, a Blob, a Response, a ReadableStream, \{ files \}, a path or a URL, found \[object Number\]$/);
  });
});
