import { describe, expect, it } from "vitest";
import { ModelFormatError } from "../../src/errors.js";
import { parseConfig } from "../../src/config/config.js";

const base = { arch: "decoder", d_model: 64, n_heads: 8, d_ff: 128, decoder_layers: 2, vocab_size: 100 };
const fails = (json: unknown) => {
  try {
    parseConfig(json, "c.json");
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return (e as ModelFormatError).message;
  }
  throw new Error("no error thrown");
};

describe("model config", () => {
  it("fills defaults from the torch nn.Transformer recipe", () => {
    const c = parseConfig(base);
    expect(c).toMatchObject({
      n_kv_heads: 8, head_dim: 8, encoder_layers: 0, activation: "relu", norm: "layernorm", norm_position: "post",
      norm_eps: 1e-5, positions: "sinusoidal", naming: "torch-transformer", lm_head: true, output_bias: true, pad_id: -1,
      max_positions: 1024, norm_bias: true, encoder_final_norm: false,
    });
    const ed = parseConfig({ arch: "encoder-decoder", d_model: 8, n_heads: 2, d_ff: 16, encoder_layers: 1, decoder_layers: 1, src_vocab_size: 10, tgt_vocab_size: 12 });
    expect(ed).toMatchObject({ vocab_size: 12, pad_id: 0, bos_id: 1, eos_id: 2, unk_id: 3 });
    expect(parseConfig({ ...base, norm: "rmsnorm", norm_position: "pre" })).toMatchObject({ norm_bias: false, decoder_final_norm: true });
  });

  it("names missing fields and wrong values with expected vs found", () => {
    expect(fails({ ...base, d_model: undefined })).toBe("c.json: d_model: expected an integer >= 1, found missing");
    expect(fails({ ...base, n_heads: 6 })).toBe("c.json: n_heads: expected a divisor of d_model 64, found 6");
    expect(fails({ ...base, n_kv_heads: 3 })).toBe("c.json: n_kv_heads: expected a divisor of n_heads 8, found 3");
    expect(fails({ ...base, activation: "tanh" })).toMatch(/activation: expected "relu" \| "gelu" \| "gelu_tanh" \| "swiglu" \| "geglu", found "tanh"/);
    expect(fails({ ...base, vocab_size: undefined })).toMatch(/vocab_size: expected an integer >= 1, found missing/);
    expect(fails({ ...base, arch: "encoder-decoder", encoder_layers: 1, src_vocab_size: 3 })).toMatch(/tgt_vocab_size/);
    expect(fails({ ...base, encoder_layers: 2 })).toBe('c.json: encoder_layers: expected 0 for arch "decoder", found 2');
    expect(fails({ ...base, eos_id: 100 })).toMatch(/eos_id: expected -1 or an id < 100, found 100/);
    expect(fails({ ...base, positions: "rotary", head_dim: 7 })).toMatch(/head_dim: expected an even number/);
    expect(fails({ ...base, norm_eps: 0 })).toMatch(/norm_eps: expected a number > 0, found 0/);
    expect(fails({ ...base, format: "onnx" })).toMatch(/format/);
    expect(fails([])).toMatch(/config: expected a JSON object/);
    expect(fails({ ...base, tensor_names: { a: 1 } })).toMatch(/tensor_names/);
  });
});
