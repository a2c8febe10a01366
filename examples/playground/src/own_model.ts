// Your-own-model panel: files dropped or chosen are read in chunks (with progress), handed to
// rt.loadModel (the format is detected from the bytes), then generate/stream from the prompt.
// A file that is no model gets the typed error's message; the page and the runtime go on.
import type { ModelSource, Runtime, TextModel } from "simdformer";
import { byId, errorText, fillStats, fmt, nextFrame } from "./dom.js";

/** Reads files into memory, reporting bytes read so far out of the total. */
async function readAll(files: File[], progress: (done: number, total: number) => void): Promise<Record<string, Uint8Array>> {
  const total = files.reduce((s, f) => s + f.size, 0);
  let done = 0;
  const out: Record<string, Uint8Array> = {};
  for (const f of files) {
    const bytes = new Uint8Array(f.size);
    const reader = f.stream().getReader();
    let at = 0;
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      bytes.set(value, at);
      at += value.length;
      done += value.length;
      progress(done, total);
    }
    out[f.name] = bytes;
  }
  return out;
}

const mb = (n: number) => `${(n / 1048576).toFixed(n < 1048576 ? 2 : 1)} MB`;

export function setupOwnModel(rt: Runtime): void {
  const drop = byId("model-drop");
  const input = byId<HTMLInputElement>("model-file");
  const progress = byId<HTMLProgressElement>("model-progress");
  const status = byId("model-status");
  const error = byId("model-error");
  const form = byId<HTMLFormElement>("model-form");
  const prompt = byId<HTMLTextAreaElement>("model-prompt");
  const tokens = byId<HTMLInputElement>("model-tokens");
  const temperature = byId<HTMLInputElement>("model-temperature");
  const button = byId<HTMLButtonElement>("model-run");
  const output = byId("model-output");
  const stats = byId("model-stats");
  let tm: TextModel | undefined;

  const load = async (files: File[]) => {
    if (files.length === 0) return;
    error.hidden = true;
    button.disabled = true;
    status.dataset.state = "loading";
    tm?.dispose();
    tm = undefined;
    output.textContent = "";
    stats.replaceChildren();
    try {
      const names = files.map((f) => f.name).join(", ");
      const read = await readAll(files, (done, total) => {
        progress.value = total ? done / total : 1;
        status.textContent = `Reading ${names}: ${mb(done)} of ${mb(total)}`;
      });
      status.textContent = `Loading ${names}…`;
      await nextFrame();
      const t0 = performance.now();
      const source: ModelSource = files.length === 1 ? read[files[0].name] : { files: read };
      tm = await rt.loadModel(source, files.length === 1 ? { file: files[0].name } : {});
      const c = tm.model.config;
      const layers = c.arch === "encoder-decoder" ? `${c.encoder_layers}+${c.decoder_layers}` : String(c.arch === "encoder" ? c.encoder_layers : c.decoder_layers);
      status.textContent = `${names}: ${c.arch}, ${layers} layers, d_model ${c.d_model}, ${c.n_heads} heads, vocabulary ${c.vocab_size} · loaded in ${fmt(performance.now() - t0)} ms`;
      if (c.arch === "encoder-decoder" && prompt.value === "Once upon a time") prompt.value = "I like deep learning";
      status.dataset.state = "loaded";
      button.disabled = c.arch === "encoder";
      if (c.arch === "encoder") status.textContent += " · an encoder-only model has no text to generate";
    } catch (e) {
      progress.value = 0;
      status.textContent = "No model loaded.";
      status.dataset.state = "error";
      error.textContent = errorText(e);
      error.hidden = false;
    }
  };

  const generate = async () => {
    if (!tm) return;
    button.disabled = true;
    output.textContent = "";
    output.dataset.state = "running";
    const temp = Number(temperature.value) || 0;
    const opts = { maxNewTokens: Math.max(1, Math.min(512, Number(tokens.value) || 48)), ...(temp > 0 ? { temperature: temp, seed: 1 } : {}) };
    try {
      const gen = tm.model.config.arch === "encoder-decoder" ? tm.stream(prompt.value, opts) : tm.generate(prompt.value, opts);
      let r = await gen.next();
      for (; !r.done; r = await gen.next()) output.textContent += r.value.text;
      const s = r.value;
      fillStats(stats, [
        ["prefill", `${fmt(s.prefillTokensPerSecond)} tok/s`],
        ["decode", `${fmt(s.decodeTokensPerSecond)} tok/s`],
        ["first token", `${fmt(s.timeToFirstTokenMs)} ms`],
        ["tokens", `${s.promptTokens} in · ${s.generatedTokens} out`],
      ]);
      output.dataset.state = "done";
    } catch (e) {
      error.textContent = errorText(e);
      error.hidden = false;
      output.dataset.state = "error";
    } finally {
      button.disabled = false;
    }
  };

  input.addEventListener("change", () => void load([...(input.files ?? [])]));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    void load([...(e.dataTransfer?.files ?? [])]);
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void generate();
  });
}
