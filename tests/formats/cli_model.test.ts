// The CLI's --model takes any format by path: a Hugging Face directory, a .gguf, a llama2.c .bin
// (with tokenizer.bin beside it); the same model gives the same text in each.
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { io } from "../cli/io.js";
import { FORMATS_DIR } from "./fixtures.js";

describe("simdformer generate --model <path>", () => {
  it("HF directory, GGUF file and llama2.c file give the same continuation", async () => {
    const texts: string[] = [];
    for (const p of ["llama", "llama.gguf", "llama2c/model.bin"]) {
      const t = io();
      const code = await runCli(["generate", "--json", "--threads", "1", "--model", new URL(p, FORMATS_DIR).pathname, "--max-tokens", "8", "the cat sat on"], t);
      expect(code, t.err.join("")).toBe(0);
      const r = JSON.parse(t.out.join("").trim());
      expect(r.prompt).toBe("the cat sat on");
      texts.push(r.text);
    }
    expect(texts[0].length).toBeGreaterThan(0);
    expect(texts[1]).toBe(texts[0]);
    expect(texts[2]).toBe(texts[0]);
  });

  it("a damaged or unknown file is reported as a ModelFormatError, exit code 1", async () => {
    const t = io();
    expect(await runCli(["generate", "--threads", "1", "--model", new URL("llama2c/tokenizer.bin", FORMATS_DIR).pathname, "hi"], t)).toBe(1);
    expect(t.err.join("")).toMatch(/ModelFormatError: tokenizer\.bin: format: expected GGUF/);
  });
});
