// openSafetensors: a simdformer safetensors file to the config, tensors and metadata Model.fromTensors takes.
import { describe, expect, it } from "vitest";
import { ModelFormatError } from "../../src/errors.js";
import { openSafetensors } from "../../src/formats/detect.js";
import { parseSafetensors, writeSafetensors } from "../../src/formats/safetensors.js";
import { loadFixture } from "../model/helpers.js";

const gpt2 = loadFixture("gpt2");
const configJson = gpt2.file.metadata["simdformer.config"];
const weights = { w: { shape: [2, 2], data: [1, 2, 3, 4] } };

function formatError(f: () => unknown): ModelFormatError {
  try {
    f();
  } catch (e) {
    if (e instanceof ModelFormatError) return e;
    throw e;
  }
  throw new Error("expected a ModelFormatError");
}

describe("openSafetensors", () => {
  it("reads the config from the metadata, and hands the parsed file over as the tensors", () => {
    const opened = openSafetensors(gpt2.bytes, { file: "gpt2.safetensors" });
    expect(opened).toMatchObject({ format: "simdformer", file: "gpt2.safetensors", config: { arch: "decoder" } });
    expect(opened.metadata).toEqual(gpt2.file.metadata);
    expect(opened.tensors.shape("transformer.wte.weight")).toEqual(gpt2.file.shape("transformer.wte.weight"));
    expect(openSafetensors(gpt2.file).config).toEqual(opened.config);
  });

  it('takes "config" when "simdformer.config" is absent, and a given config over both', () => {
    const plain = writeSafetensors(weights, { config: configJson });
    expect(openSafetensors(plain).config).toEqual(openSafetensors(gpt2.bytes).config);
    const given = { ...JSON.parse(configJson), eos_id: 3 };
    expect(openSafetensors(gpt2.bytes).config.eos_id).not.toBe(3);
    expect(openSafetensors(gpt2.bytes, { config: given }).config.eos_id).toBe(3);
  });

  it("refuses a file without a config, with bad JSON, or with a bad config, naming the field", () => {
    expect(formatError(() => openSafetensors(writeSafetensors(weights), { file: "x.safetensors" }))).toMatchObject({
      file: "x.safetensors", field: '__metadata__["simdformer.config"]', expected: "a config JSON string", found: "missing",
    });
    expect(formatError(() => openSafetensors(writeSafetensors(weights, { config: "{" })))).toMatchObject({ field: '__metadata__["config"]', expected: "valid JSON" });
    expect(formatError(() => openSafetensors(parseSafetensors(writeSafetensors(weights, { "simdformer.config": "{}" }), "y.safetensors"))).file).toBe("y.safetensors config");
  });
});
