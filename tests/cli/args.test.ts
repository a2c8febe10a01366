import { describe, expect, it } from "vitest";
import { parseCli } from "../../src/cli/args.js";
import { ArgumentError } from "../../src/errors.js";
import { ProgressBar, painter, useColor } from "../../src/cli/term.js";

describe("parseCli", () => {
  it("defaults to translate, text from positionals", () => {
    const a = parseCli(["we", "read", "books"]);
    expect(a.command).toBe("translate");
    expect(a.text).toEqual(["we", "read", "books"]);
    expect(a).toMatchObject({ threads: "auto", simd: "auto", temperature: 0, beam: 1, json: false });
  });

  it("reads commands and typed flags", () => {
    const a = parseCli(["generate", "once upon", "--threads", "2", "--simd", "strict", "--top-p", "0.9", "--top-k", "40", "--seed", "7", "--max-tokens", "5", "--json"]);
    expect(a).toMatchObject({ command: "generate", text: ["once upon"], threads: 2, simd: "strict", topP: 0.9, topK: 40, seed: 7, maxTokens: 5, json: true });
  });

  it("reads --stop as a list of ids, --max-positions and --tokenizer", () => {
    const a = parseCli(["generate", "hi", "--model", "m.bin", "--tokenizer", "tok512.bin", "--stop", "1, 2", "--max-positions", "64"]);
    expect(a).toMatchObject({ model: "m.bin", tokenizer: "tok512.bin", stop: [1, 2], maxPositions: 64 });
    expect(parseCli(["generate", "hi"]).stop).toBeUndefined();
  });

  it.each([
    [["--threads", "0"], /--threads: expected an integer 1..256, found "0"/],
    [["--simd", "avx"], /--simd: expected auto\|strict\|relaxed\|scalar/],
    [["--top-p", "0"], /--top-p/],
    [["--temperature", "-1"], /--temperature/],
    [["--beam", "x"], /--beam/],
    [["--bogus"], /bogus/],
    [["generate"], /expected a prompt/],
    [["generate", "x", "--stop", "1,,2"], /--stop: expected an integer 0\.\.\d+, found ""/],
    [["generate", "x", "--stop", "-1"], /--stop/],
    [["generate", "x", "--max-positions", "1"], /--max-positions: expected an integer 2\.\./],
    [["generate", "x", "--tokenizer", "t.bin"], /--tokenizer: expected --model PATH too/],
  ])("rejects %j", (argv, msg) => {
    expect(() => parseCli(argv as string[])).toThrow(ArgumentError);
    expect(() => parseCli(argv as string[])).toThrow(msg);
  });
});

describe("terminal output", () => {
  it("colors only on a TTY without NO_COLOR", () => {
    expect(useColor({ isTTY: true, write: () => 0 }, {})).toBe(true);
    expect(useColor({ isTTY: true, write: () => 0 }, { NO_COLOR: "" })).toBe(false);
    expect(useColor({ isTTY: false, write: () => 0 }, {})).toBe(false);
    expect(painter(false).red("x")).toBe("x");
    expect(painter(true).red("x")).toBe("\x1b[31mx\x1b[39m");
  });

  it("draws a progress bar only on a TTY", () => {
    const out: string[] = [];
    new ProgressBar({ isTTY: false, write: (s) => out.push(s) }, "load").update(0.5);
    expect(out).toEqual([]);
    const bar = new ProgressBar({ isTTY: true, columns: 80, write: (s) => out.push(s) }, "load");
    bar.update(0.5);
    bar.update(0.5);
    expect(out.length).toBe(1);
    expect(out[0]).toContain(" 50%");
  });
});
