// Loading the tools/format_fixtures.py outputs (tests/fixtures/formats/).
import { readdirSync, readFileSync } from "node:fs";
import type { ModelFiles } from "../../src/formats/detect.js";
import { parseSafetensors } from "../../src/formats/safetensors.js";

export const FORMATS_DIR = new URL("../fixtures/formats/", import.meta.url);

/** A fixture file's bytes. */
export function fixtureBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(path, FORMATS_DIR)));
}

/** Every file of a fixture directory, by name. */
export function fixtureDir(dir: string): ModelFiles {
  const files: Record<string, Uint8Array> = {};
  for (const name of readdirSync(new URL(`${dir}/`, FORMATS_DIR))) files[name] = fixtureBytes(`${dir}/${name}`);
  return { files };
}

const reference = parseSafetensors(fixtureBytes("reference.safetensors"), "reference.safetensors");

/** Torch outputs of the fixtures. */
export const ref = {
  tensor: (name: string) => reference.read(name),
  meta: JSON.parse(reference.metadata.fixture!) as {
    spm_cases: Array<{ text: string; ids: number[] }>;
    llama: { prompt: number[]; greedy: number[] };
    llama_q: { prompt: number[] };
    gpt2: { prompt: number[]; greedy: number[] };
    bert: { ids: number[] };
  },
};
