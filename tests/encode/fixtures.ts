// Loading the tools/encoder_fixtures.py outputs (tests/fixtures/encoders/).
import { readdirSync, readFileSync, statSync } from "node:fs";
import type { ModelFiles } from "../../src/formats/detect.js";
import { parseSafetensors } from "../../src/formats/safetensors.js";

export const ENCODERS_DIR = new URL("../fixtures/encoders/", import.meta.url);

/** Every file of a fixture folder by relative path (subfolders such as 1_Pooling/ included). */
export function encoderFiles(dir: string): ModelFiles {
  const files: Record<string, Uint8Array> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(new URL(`${dir}/${rel}`, ENCODERS_DIR))) {
      const path = `${rel}${name}`;
      const url = new URL(`${dir}/${path}`, ENCODERS_DIR);
      if (statSync(url).isDirectory()) walk(`${path}/`);
      else files[path] = new Uint8Array(readFileSync(url));
    }
  };
  walk("");
  return { files };
}

/** Path of a fixture folder on disk. */
export const encoderPath = (dir: string): string => new URL(dir, ENCODERS_DIR).pathname;

const reference = parseSafetensors(new Uint8Array(readFileSync(new URL("reference.safetensors", ENCODERS_DIR))), "reference.safetensors");

/** PyTorch's outputs and the fixture's texts and token ids. */
export const ref = {
  tensor: (name: string) => reference.read(name),
  meta: JSON.parse(reference.metadata.fixture!) as {
    texts: string[];
    pairs: Array<[string, string]>;
    bert: { ids: number[][] };
    xlm_roberta: { ids: number[][] };
    distilbert: { ids: number[][] };
    bert_pair: { ids: number[]; types: number[] };
    cross: { ids: number[][]; types: number[][] };
    classifier: { ids: number[][]; types: number[][] };
  },
};
