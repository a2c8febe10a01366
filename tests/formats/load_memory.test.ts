// The streamed load holds no copy of the file in JS: a ~31 MB llama2.c checkpoint handed out
// by a stream that counts its bytes is read exactly once, the JS ArrayBuffers alive during the
// load (process.memoryUsage().arrayBuffers after a full GC, sampled at every pull) never exceed
// the read-ahead and the stream's own chunks, and the wasm memory is grown once, from the
// header, before the tensors arrive.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { llama2cFileSize, parseLlama2cHeader } from "../../src/formats/llama2c.js";
import { Rng } from "../../src/util/rng.js";

v8.setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const MiB = 2 ** 20;
/** Bytes per pull of the counting stream. */
const PULL = 256 * 1024;
/** The sources' read-ahead for small tensors (READ_AHEAD in src/formats/byte_source.ts). */
const READ_AHEAD = 256 * 1024;

/** dim, hidden, layers, heads, kv heads, vocab (positive: shared classifier), seq len. */
const HEADER = [256, 768, 8, 4, 4, 4096, 64];

/** Writes a version-0 llama2.c checkpoint of HEADER's shape with small random weights, in pieces. */
function writeCheckpoint(path: string): number {
  const head = new Uint8Array(new Int32Array(HEADER).buffer);
  const size = llama2cFileSize(parseLlama2cHeader(head, "model.bin", null));
  const fd = openSync(path, "w");
  try {
    writeSync(fd, head);
    const rng = new Rng(20);
    const piece = new Float32Array(MiB / 4);
    for (let left = (size - head.byteLength) / 4; left > 0; left -= piece.length) {
      const n = Math.min(left, piece.length);
      for (let i = 0; i < n; i++) piece[i] = (rng.next() - 0.5) * 0.1;
      writeSync(fd, new Uint8Array(piece.buffer, 0, n * 4));
    }
  } finally {
    closeSync(fd);
  }
  return size;
}

interface Pull { handed: number; arrayBuffers: number; wasmBytes: number }

/** A stream over the file that hands out fresh PULL-byte chunks and records, at each pull, the bytes handed out so far and the memory in use. */
function countingStream(path: string, rt: Runtime, pulls: Pull[]): ReadableStream<Uint8Array> {
  const fd = openSync(path, "r");
  let handed = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      gc();
      pulls.push({ handed, arrayBuffers: process.memoryUsage().arrayBuffers, wasmBytes: rt.engine.mem.memory.buffer.byteLength });
      const chunk = new Uint8Array(PULL);
      const n = readSync(fd, chunk, 0, PULL, handed);
      if (n === 0) {
        closeSync(fd);
        return c.close();
      }
      handed += n;
      c.enqueue(chunk.subarray(0, n));
    },
  });
}

describe("streamed load memory", () => {
  let dir: string;
  let path: string;
  let size: number;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "simdformer-load-"));
    path = join(dir, "model.bin");
    size = writeCheckpoint(path);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads each byte once, holds at most the read-ahead in JS, grows the wasm memory once and keeps the weights once", async () => {
    const rt = await createRuntime({ threads: 1 });
    try {
      const tokenizer = { encode: () => ({ ids: [], tokens: [], unknown: [] }), decode: () => "" };
      gc();
      const baseline = process.memoryUsage().arrayBuffers;
      const pulls: Pull[] = [];
      const tm = await rt.loadModel(countingStream(path, rt, pulls), { tokenizer });
      const wasmAfter = rt.engine.mem.memory.buffer.byteLength;
      const weights = rt.engine.regions.weights.usedBytes;

      expect(size).toBeGreaterThan(30 * MiB);
      // Every byte handed out once, in order, to the end of the file.
      expect(pulls.at(-1)!.handed).toBe(size);
      expect(pulls.length).toBe(Math.ceil(size / PULL) + 1);

      // JS memory: the read-ahead, the chunk being read and the one queued, never the file (F32
      // tensors go straight into wasm memory: no staging buffer).
      const peak = Math.max(...pulls.map((p) => p.arrayBuffers)) - baseline;
      expect(peak).toBeLessThanOrEqual(READ_AHEAD + 3 * PULL + MiB);
      expect(peak).toBeLessThan(size / 3);

      // One grow, before the first tensor's bytes are handed out past the first pulls (the
      // header is read from the first chunk): from then on the memory's size does not change.
      const reading = pulls.filter((p) => p.handed >= 2 * PULL);
      expect(new Set(reading.map((p) => p.wasmBytes)).size).toBe(1);
      expect(reading[0].wasmBytes).toBe(wasmAfter);
      // The weights region holds the file's weights once: packed in place, the tied head and the
      // token table one copy (the file's rotary tables, which the model recomputes, are not loaded).
      expect(weights).toBeGreaterThan(0.95 * size);
      expect(weights).toBeLessThan(1.05 * size);

      const { logits } = await tm.model.forward({ tokens: [[1, 5, 9]] });
      expect(logits![0].every(Number.isFinite)).toBe(true);
      tm.dispose();
    } finally {
      rt.dispose();
    }
  });
});
