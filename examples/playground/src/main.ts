// The playground page: one simdformer runtime (threads where the page is cross-origin
// isolated) and the default translator for the Translate, Attention and Your-own-model
// panels; the kernel bench makes its own runtimes. Panels are tabs; the runtime's choices
// and the reasons it did not take better ones (rt.features.notes) are shown up top.
import { createRuntime, type Runtime } from "simdformer";
import { setupAttention } from "./attention.js";
import { setupBench } from "./bench.js";
import { byId, el, errorText, fillDetails } from "./dom.js";
import { setupOwnModel } from "./own_model.js";
import { setupTranslate } from "./translate.js";

function setupTabs(): void {
  const tabs = [...document.querySelectorAll<HTMLButtonElement>(".tabs button")];
  const show = (name: string) => {
    for (const t of tabs) {
      const on = t.dataset.panel === name;
      t.setAttribute("aria-selected", String(on));
      byId(`panel-${t.dataset.panel}`).hidden = !on;
    }
    history.replaceState(null, "", `#${name}`);
  };
  for (const t of tabs) t.addEventListener("click", () => show(t.dataset.panel!));
  const initial = location.hash.slice(1);
  if (tabs.some((t) => t.dataset.panel === initial)) show(initial);
}

function showRuntime(rt: Runtime): void {
  const f = rt.features;
  const isolated = globalThis.crossOriginIsolated === true;
  byId("runtime").replaceChildren(
    el("span", { class: "badge good" }, `build ${f.build}`),
    el("span", { class: `badge ${f.threads > 1 ? "good" : "warn"}` }, `${f.threads} thread${f.threads > 1 ? "s" : ""}`),
    el("span", { class: `badge ${isolated ? "good" : "warn"}` }, isolated ? "cross-origin isolated" : "not isolated"),
  );
  byId("footer-isolation").textContent = isolated ? "COOP/COEP on: threads available" : "no COOP/COEP: one thread";
  const notes = f.notes.length ? el("ul", {}, ...f.notes.map((n) => el("li", {}, n))) : "none: the best build and every core";
  fillDetails(byId("runtime-details"), [
    ["build", `${f.build} (SIMD ${f.simd ? "on" : "off"}, relaxed SIMD ${f.relaxedSimd ? "on" : "off"}, ${f.sharedMemory ? "shared" : "unshared"} memory)`],
    ["threads", `${f.threads} of ${f.host.hardwareConcurrency} logical cores`],
    ["why not more", notes],
  ]);
}

setupTabs();
try {
  const rt = await createRuntime({ threads: "auto" });
  showRuntime(rt);
  const tm = await rt.loadModel();
  const attention = setupAttention();
  setupTranslate(tm, attention.show);
  setupOwnModel(rt);
  setupBench();
  document.body.dataset.ready = "true";
} catch (e) {
  byId("runtime").replaceChildren(el("span", { class: "badge warn" }, `could not start: ${errorText(e)}`));
  document.body.dataset.ready = "failed";
}
