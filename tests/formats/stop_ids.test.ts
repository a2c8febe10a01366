// The ids that end a generation, per format: llama2.c BOS (and EOS), GGUF eos + eot/eom, HF generation_config.json.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime, type Runtime } from "../../src/index.js";
import { openModel } from "../../src/formats/detect.js";
import { parseGguf } from "../../src/formats/gguf.js";
import { ggufStopIds } from "../../src/formats/gguf_model.js";
import { hfStopIds } from "../../src/formats/hf.js";
import { fixtureBytes, fixtureDir, FORMATS_DIR, metadataGguf, ref } from "./fixtures.js";

const config = openModel(fixtureDir("llama")).config;
// torch's greedy continuation of the fixture prompt: [173, 175, 96, 186, 1, ...]; 1 is BOS.
const greedy = ref.meta.llama.greedy;
const bosAt = greedy.indexOf(1);

describe("stop ids by format", () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await createRuntime({ threads: 1 });
  });
  afterAll(() => rt.dispose());

  it("llama2.c: a sample ends at BOS (1), as run.c stops; EOS (2) too", async () => {
    expect(bosAt).toBeGreaterThan(0);
    expect(openModel(fixtureDir("llama2c")).stopIds).toEqual([1, 2]);
    const tm = await rt.loadModel(new URL("llama2c/model.bin", FORMATS_DIR).pathname);
    expect(tm.stop).toEqual([1, 2]);
    const t = await tm.translate("the cat sat on", { maxNewTokens: 12 });
    expect(t.ids).toEqual(greedy.slice(0, bosAt));
    expect(t.stats.stopReason).toBe("stop");
    // An explicit stop replaces the format's.
    expect((await tm.translate("the cat sat on", { maxNewTokens: bosAt + 2, stop: [2] })).ids).toEqual(greedy.slice(0, bosAt + 2));
    tm.dispose();
  });

  it("GGUF: tokenizer.ggml.eos_token_id, then eot and eom where present, each checked against the vocabulary", () => {
    expect(openModel(fixtureBytes("llama.gguf")).stopIds).toEqual([2]);
    const g = (kv: Array<[string, number]>) => parseGguf(metadataGguf(kv.map(([k, v]) => [k, { u32: v }])), "m.gguf");
    expect(ggufStopIds(g([["tokenizer.ggml.eos_token_id", 2], ["tokenizer.ggml.eot_token_id", 7], ["tokenizer.ggml.eom_token_id", 9]]), config)).toEqual([2, 7, 9]);
    expect(ggufStopIds(g([["tokenizer.ggml.eos_token_id", 2], ["tokenizer.ggml.eot_token_id", 2]]), config)).toEqual([2]);
    expect(ggufStopIds(g([["tokenizer.ggml.eot_token_id", 5]]), config)).toEqual([5]);
    expect(() => ggufStopIds(g([["tokenizer.ggml.eot_token_id", 351]]), config)).toThrow(/m\.gguf: metadata "tokenizer\.ggml\.eot_token_id": expected a token id < 351 \(the vocabulary size\), found 351/);
  });

  it("Hugging Face: generation_config.json's eos_token_id (one or a list) over config.json's", async () => {
    const cfg = { eos_token_id: 2 };
    expect(hfStopIds(cfg, undefined, 351)).toEqual([2]);
    expect(hfStopIds(cfg, { eos_token_id: [2, 1, 2] }, 351)).toEqual([2, 1]);
    expect(hfStopIds({ eos_token_id: [5, 6] }, {}, 351)).toEqual([5, 6]);
    expect(hfStopIds({}, {}, 351)).toEqual([]);
    expect(() => hfStopIds(cfg, { eos_token_id: [2, 400] }, 351)).toThrow(/generation_config\.json: eos_token_id: expected a token id or a list of them, each in 0\.\.350, found \[2,400\]/);

    const dir = fixtureDir("llama");
    expect(openModel(dir).stopIds).toEqual([2]);
    const files = { ...dir.files, "generation_config.json": new TextEncoder().encode(JSON.stringify({ eos_token_id: [2, 1] })) };
    const tm = await rt.loadModel({ files });
    expect(tm.stop).toEqual([2, 1]);
    expect((await tm.translate("the cat sat on", { maxNewTokens: 12 })).ids).toEqual(greedy.slice(0, bosAt));
    tm.dispose();
    const bad = { ...dir.files, "generation_config.json": new TextEncoder().encode("[2]") };
    expect(() => openModel({ files: bad })).toThrow(/generation_config\.json: contents: expected a JSON object/);
  });
});
