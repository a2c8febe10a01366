// Translate panel: streams the default translator's tokens as they are chosen, then shows
// the call's stats and hands the translation (with its attention maps) to the Attention panel.
import type { TextModel, Translation } from "simdformer";
import { byId, el, errorText, fillStats, fmt } from "./dom.js";

/** The CLI's demo sentences (npm start). */
const EXAMPLES = ["I like deep learning", "I read books in the library", "We ate apples yesterday", "Do you like music?", "They will play football in the park tomorrow"];

export function setupTranslate(tm: TextModel, onTranslation: (t: Translation, source: string) => void): void {
  const form = byId<HTMLFormElement>("translate-form");
  const input = byId<HTMLTextAreaElement>("translate-input");
  const decoding = byId<HTMLSelectElement>("translate-decoding");
  const button = byId<HTMLButtonElement>("translate-run");
  const output = byId("translate-output");
  const stats = byId("translate-stats");
  byId("translate-examples").replaceChildren(...EXAMPLES.map((s) => {
    const b = el("button", { type: "button" }, s);
    b.addEventListener("click", () => {
      input.value = s;
      form.requestSubmit();
    });
    return b;
  }));

  let busy = false;
  const run = async () => {
    const text = input.value.trim();
    if (!text || busy) return;
    busy = true;
    button.disabled = true;
    output.dataset.state = "running";
    const beams = decoding.value === "beam" ? 4 : 1;
    let shown = "";
    const cursor = el("span", { class: "cursor" });
    output.replaceChildren(cursor);
    try {
      const gen = tm.stream(text, { beams });
      let r = await gen.next();
      for (; !r.done; r = await gen.next()) {
        shown += r.value.text;
        output.replaceChildren(shown, cursor);
      }
      const s = r.value;
      output.replaceChildren(shown);
      fillStats(stats, [
        ["prefill", `${fmt(s.prefillTokensPerSecond)} tok/s`],
        ["decode", `${fmt(s.decodeTokensPerSecond)} tok/s`],
        ["first token", `${fmt(s.timeToFirstTokenMs)} ms`],
        ["tokens", `${s.promptTokens} in · ${s.generatedTokens} out${beams > 1 ? ` · ${beams} beams` : ""}`],
      ]);
      // The attention behind the same output: one more (teacher-forced) forward pass.
      onTranslation(await tm.translate(text, { beams, attention: true }), text);
      output.dataset.state = "done";
    } catch (e) {
      output.replaceChildren(el("span", { class: "error" }, errorText(e)));
      output.dataset.state = "error";
    } finally {
      busy = false;
      button.disabled = false;
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void run();
  });
  button.disabled = false;
  void run();
}
