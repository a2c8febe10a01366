// Attention panel: the cross-attention of the last translation as the package's SVG heatmap
// (renderAttentionSvg), rows = generated tokens, columns = source tokens. By default the mean
// over layers and heads (one cell per target x source token); a layer and a head on request.
import { renderAttentionSvg, type Translation } from "simdformer";
import { byId, el } from "./dom.js";

/** Element-wise mean of the layers' maps (all heads x tgt x src, same shape). */
function meanOfLayers(layers: Float32Array[]): Float32Array {
  const out = new Float32Array(layers[0].length);
  for (const l of layers) for (let i = 0; i < out.length; i++) out[i] += l[i] / layers.length;
  return out;
}

function options(select: HTMLSelectElement, items: Array<[string, string]>): void {
  const keep = select.value;
  select.replaceChildren(...items.map(([v, label]) => el("option", { value: v }, label)));
  if (items.some(([v]) => v === keep)) select.value = keep;
}

export function setupAttention(): { show: (t: Translation, source: string) => void } {
  const layerSel = byId<HTMLSelectElement>("attention-layer");
  const headSel = byId<HTMLSelectElement>("attention-head");
  const view = byId("attention-view");
  let last: { t: Translation; source: string } | undefined;

  const draw = () => {
    const maps = last?.t.attention;
    if (!last || !maps || maps.cross.length === 0) return;
    const layer = layerSel.value;
    const head = headSel.value;
    const svg = renderAttentionSvg({
      weights: layer === "mean" ? meanOfLayers(maps.cross) : maps.cross[Number(layer)],
      heads: maps.heads,
      rows: maps.outputTokens!,
      cols: maps.srcTokens!,
      show: head === "mean" ? "average" : head === "all" ? "all" : Number(head),
      title: `${last.source} → ${last.t.text}`,
      rowAxis: "generated tokens",
      colAxis: "source tokens",
      cell: 40,
    });
    // Parsed as SVG, not HTML: the renderer escapes every label, and nothing here can script.
    const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
    view.replaceChildren(document.importNode(doc.documentElement, true));
    view.dataset.rows = String(maps.outputTokens!.length);
    view.dataset.cols = String(maps.srcTokens!.length);
  };
  layerSel.addEventListener("change", draw);
  headSel.addEventListener("change", draw);

  return {
    show(t, source) {
      last = { t, source };
      const maps = t.attention;
      if (!maps || maps.cross.length === 0) {
        view.replaceChildren(el("p", { class: "hint" }, "This translation has no cross-attention to show (nothing was generated)."));
        return;
      }
      options(layerSel, [["mean", `mean of ${maps.cross.length} layers`], ...maps.cross.map((_, i): [string, string] => [String(i), `layer ${i}`])]);
      options(headSel, [["mean", `mean of ${maps.heads} heads`], ["all", "every head"], ...Array.from({ length: maps.heads }, (_, h): [string, string] => [String(h), `head ${h}`])]);
      draw();
    },
  };
}
