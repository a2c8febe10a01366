// renderAttentionSvg: well-formed XML (checked by a small tag/entity scanner, no DOM), the
// right number of cells and labels per panel, escaping, colors and argument errors.
import { describe, expect, it } from "vitest";
import { attentionColor, renderAttentionSvg } from "../../src/index.js";
import { escapeXml, meanOf } from "../../src/viz/attention_svg.js";
import { parseXml } from "./xml.js";

const count = (els: ReturnType<typeof parseXml>, name: string, cls?: string) => els.filter((e) => e.name === name && (cls === undefined || e.attrs.class === cls)).length;

function sample(heads: number, rows: number, cols: number): Float32Array {
  const w = new Float32Array(heads * rows * cols);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += w[(h * rows + i) * cols + j] = 1 + ((h * 7 + i * 3 + j * 5) % 11);
      for (let j = 0; j < cols; j++) w[(h * rows + i) * cols + j] /= s;
    }
  }
  return w;
}

describe("renderAttentionSvg", () => {
  const rows = ["我", "喜", "欢", "<eos>"];
  const cols = ["i", "like", "deep", "learning", "<eos>"];

  it("draws one panel per head and a mean panel, with every cell and label, as well-formed XML", () => {
    const svg = renderAttentionSvg({ weights: sample(4, 4, 5), rows, cols, title: "I like deep learning → 我喜欢", rowAxis: "generated", colAxis: "source" });
    const els = parseXml(svg);
    expect(els[0].name).toBe("svg");
    expect(els[0].attrs.xmlns).toBe("http://www.w3.org/2000/svg");
    const panels = 5;
    expect(count(els, "g", "panel")).toBe(panels);
    expect(count(els, "rect", "cell")).toBe(panels * 4 * 5);
    expect(count(els, "text", "row-label")).toBe(panels * 4);
    expect(count(els, "text", "col-label")).toBe(panels * 5);
    expect(els.filter((e) => e.attrs.class === "panel-title").map((e) => e.text)).toEqual(["head 0", "head 1", "head 2", "head 3", "mean of 4 heads"]);
    // Legend: the gradient and its ticks 0..1.
    expect(count(els, "linearGradient")).toBe(1);
    expect(els.filter((e) => e.attrs.class === "tick").map((e) => e.text)).toEqual(["0", "0.25", "0.5", "0.75", "1"]);
    // Chinese as is, "<eos>" escaped.
    expect(els.filter((e) => e.attrs.class === "row-label").slice(0, 4).map((e) => e.text)).toEqual(["我", "喜", "欢", "&lt;eos&gt;"]);
    expect(svg).not.toContain("<eos>");
  });

  it("colors cells by value and the mean panel averages the heads", () => {
    const w = sample(2, 4, 5);
    const els = parseXml(renderAttentionSvg({ weights: w, rows, cols }));
    const cells = els.filter((e) => e.attrs.class === "cell");
    expect(cells).toHaveLength(3 * 20);
    expect(cells[7].attrs.fill).toBe(attentionColor(w[7]));
    expect(cells[20 + 3].attrs.fill).toBe(attentionColor(w[20 + 3]));
    expect(cells[40 + 3].attrs.fill).toBe(attentionColor((w[3] + w[20 + 3]) / 2));
  });

  it("one head, or the mean only", () => {
    const w = sample(3, 4, 5);
    let els = parseXml(renderAttentionSvg({ weights: w, rows, cols, show: 2 }));
    expect(count(els, "rect", "cell")).toBe(20);
    expect(els.find((e) => e.attrs.class === "panel-title")!.text).toBe("head 2");
    expect(els.filter((e) => e.attrs.class === "cell")[0].attrs.fill).toBe(attentionColor(w[40]));
    els = parseXml(renderAttentionSvg({ weights: w, rows, cols, show: "average" }));
    expect(count(els, "rect", "cell")).toBe(20);
    expect(els.find((e) => e.attrs.class === "panel-title")!.text).toBe("mean of 3 heads");
  });

  it("escapes markup, quotes and characters XML cannot hold in labels and the title", () => {
    const nasty = ['a<b>&"c\'', "\u0001ctl", "\ud800lone", "😀", "</svg>"];
    const svg = renderAttentionSvg({ weights: sample(1, 5, 5), rows: nasty, cols: nasty, title: "<script>&" });
    const els = parseXml(svg);
    expect(count(els, "script")).toBe(0);
    expect(count(els, "rect", "cell")).toBe(25);
    expect(svg).toContain("a&lt;b&gt;&amp;&quot;c&apos;");
    expect(svg).toContain("😀");
    expect(escapeXml("\u0001\ud800x\udc00")).toBe("\ufffd\ufffdx\ufffd");
  });

  it("rejects weights that do not match the labels", () => {
    expect(() => renderAttentionSvg({ weights: new Float32Array(19), rows, cols })).toThrow(/heads x 4 x 5/);
    expect(() => renderAttentionSvg({ weights: sample(2, 4, 5), rows, cols, heads: 3 })).toThrow(RangeError);
    expect(() => renderAttentionSvg({ weights: sample(2, 4, 5), rows, cols, show: 2 })).toThrow(/head 0\.\.1/);
    expect(() => renderAttentionSvg({ weights: new Float32Array(0), rows: [], cols })).toThrow(/at least one row/);
  });

  it("color scale: light at 0, dark at 1, monotone in lightness, gray for NaN", () => {
    const lum = (c: string) => [1, 3, 5].reduce((s, k, i) => s + parseInt(c.slice(k, k + 2), 16) * [0.2126, 0.7152, 0.0722][i], 0);
    let last = Infinity;
    for (let t = 0; t <= 1.0001; t += 0.05) {
      const l = lum(attentionColor(t));
      expect(l).toBeLessThan(last);
      last = l;
    }
    expect(attentionColor(-1)).toBe(attentionColor(0));
    expect(attentionColor(2)).toBe(attentionColor(1));
    expect(attentionColor(NaN)).toBe("#888888");
    expect(Array.from(meanOf([[1, 2], [3, 6]]))).toEqual([2, 4]);
  });
});
