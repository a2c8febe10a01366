// The text pipeline on the default translator: English text in, the Chinese PyTorch produced out.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { TextModel } from "../../src/generate/text.js";

const bytes = new Uint8Array(readFileSync(new URL("../../models/default/translator.safetensors", import.meta.url)));
const fixture = JSON.parse(readFileSync(new URL("../fixtures/translator/heldout.json", import.meta.url), "utf8")) as {
  demos: Array<{ src: string; src_ids: number[]; pred: string }>;
  cases: Array<{ src: string; src_ids: number[]; pred: string }>;
};

let rt: Runtime;
let tm: TextModel;
beforeAll(async () => {
  rt = await createRuntime({ build: "simd", threads: 1 });
  tm = await TextModel.load(rt, bytes, { file: "translator.safetensors" });
});
afterAll(() => {
  tm.dispose();
  rt.dispose();
});

describe("TextModel on the default translator", () => {
  it('translates "i like deep learning" to 我喜欢深度学习 and streams the same text piecewise', async () => {
    const r = await tm.translate("i like deep learning");
    expect(r.text).toBe("我喜欢深度学习");
    expect(r.tokens).toEqual([..."我喜欢深度学习"]);
    expect(r.unknownWords).toEqual([]);
    expect(r.srcTokens).toEqual(["i", "like", "deep", "learning", "<eos>"]);
    expect(r.stats.stopReason).toBe("eos");
    const pieces: string[] = [];
    for await (const p of tm.stream("I like deep learning")) pieces.push(p.text);
    expect(pieces).toEqual([..."我喜欢深度学习"]);
  });

  it("text in, PyTorch's greedy translation out, for the demos and a slice of the held-out set", async () => {
    const all = [...fixture.demos, ...fixture.cases.slice(0, 40)];
    expect(all.length).toBeGreaterThan(10);
    for (const c of all) {
      expect(tm.encodeSource(c.src).ids).toEqual([...c.src_ids, tm.config.eos_id]);
      expect((await tm.translate(c.src)).text).toBe(c.pred);
    }
  });

  it("unknown words are reported and still translated around", async () => {
    const r = await tm.translate("i like deep learning and zyxwv");
    const words = ["i", "like", "deep", "learning", "and", "zyxwv"];
    expect(r.unknownWords).toEqual(words.filter((w) => tm.encodeSource(w).unknown.length > 0));
    expect(r.unknownWords).toContain("zyxwv");
    expect(r.text.length).toBeGreaterThan(0);
  });

  it('translates an empty sentence to "" (it used to make one up)', async () => {
    const r = await tm.translate("");
    expect(r).toMatchObject({ text: "", ids: [], srcTokens: [] });
    expect(r.stats.stopReason).toBe("empty");
  });

  it("beam search agrees on a sentence the model is sure of", async () => {
    const r = await tm.translate("i like deep learning", { beams: 4 });
    expect(r.text).toBe("我喜欢深度学习");
  });
});
