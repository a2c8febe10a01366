// Attention heatmaps as standalone SVG text: no DOM, no browser, no dependency, so the same
// code runs in Node, Deno, Bun, browsers and edge isolates. Depends on nothing but its input.

/** Input of {@link renderAttentionSvg}. */
export interface AttentionSvgOptions {
  /** heads x rows x cols probabilities, row-major (the layout of AttentionMaps arrays). */
  weights: ArrayLike<number>;
  /** Row labels, one per query (e.g. the generated tokens). */
  rows: readonly string[];
  /** Column labels, one per key (e.g. the source tokens). */
  cols: readonly string[];
  /** Heads in `weights`; default weights.length / (rows x cols). */
  heads?: number;
  /**
   * Panels to draw: "all" (every head, then their average; the default), "average" (the
   * mean over heads only) or a head index (that head only).
   */
  show?: "all" | "average" | number;
  /** Title above the panels. */
  title?: string;
  /** Caption of the row axis (left), e.g. "generated". */
  rowAxis?: string;
  /** Caption of the column axis (top), e.g. "source". */
  colAxis?: string;
  /** Side of one cell in px; default 26. */
  cell?: number;
  /** Panels per line before wrapping; default: as many as fit in about 1100 px. */
  columns?: number;
}

/** Color stops of the scale, value 0..1 -> sRGB (light cream through orange and crimson to deep violet). */
const STOPS: ReadonlyArray<readonly [number, number, number, number]> = [
  [0, 252, 250, 244],
  [0.15, 250, 222, 160],
  [0.35, 243, 160, 86],
  [0.6, 214, 74, 84],
  [0.8, 142, 32, 102],
  [1, 62, 16, 86],
];

/** The scale's color of a probability (clamped to 0..1; NaN gives gray). */
export function attentionColor(p: number): string {
  if (Number.isNaN(p)) return "#888888";
  const x = Math.min(1, Math.max(0, p));
  let i = 1;
  while (i < STOPS.length - 1 && STOPS[i][0] < x) i++;
  const [a, ...ca] = STOPS[i - 1];
  const [b, ...cb] = STOPS[i];
  const t = b === a ? 0 : (x - a) / (b - a);
  const hex = ca.map((v, k) => Math.round(v + (cb[k] - v) * t).toString(16).padStart(2, "0")).join("");
  return `#${hex}`;
}

/** Text made safe for XML character data and attribute values (also drops characters XML 1.0 forbids). */
export function escapeXml(s: string): string {
  // Control characters other than tab/newline/CR and unpaired surrogates cannot appear in XML 1.0.
  const clean = s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
  return clean.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** Element-wise mean of equally long arrays (heads of a layer, or layers of the same shape). */
export function meanOf(arrays: ReadonlyArray<ArrayLike<number>>): Float32Array {
  if (arrays.length === 0) return new Float32Array(0);
  const n = arrays[0].length;
  const out = new Float64Array(n);
  for (const a of arrays) {
    if (a.length !== n) throw new RangeError(`meanOf: expected arrays of ${n} values, found ${a.length}`);
    for (let i = 0; i < n; i++) out[i] += a[i];
  }
  return Float32Array.from(out, (v) => v / arrays.length);
}

/** Rough width of a label in px at a font size: CJK and other wide characters take a full em. */
function textWidth(s: string, size: number): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]|[\u{20000}-\u{3fffd}]/u.test(ch) ? 1 : 0.6;
  return w * size;
}

const FONT = "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',system-ui,sans-serif";
const fmt = (x: number) => (Math.round(x * 10) / 10).toString();

/**
 * An SVG heatmap of attention probabilities: one panel per head plus a panel of their mean
 * (or one panel, see `show`), rows labeled on the left, columns on top, and a legend of the
 * color scale from 0 to 1. Each cell is a `<rect class="cell">` with a tooltip giving its
 * value; labels are escaped, so any token text (Chinese included) is safe.
 *
 * @example
 * const t = await tm.translate("I like deep learning", { attention: true });
 * const a = t.attention!;
 * const svg = renderAttentionSvg({ weights: a.cross[1], rows: a.outputTokens!, cols: a.srcTokens!, rowAxis: "generated", colAxis: "source" });
 */
export function renderAttentionSvg(o: AttentionSvgOptions): string {
  const R = o.rows.length;
  const C = o.cols.length;
  if (R === 0 || C === 0) throw new RangeError(`renderAttentionSvg: expected at least one row and one column, found ${R} x ${C}`);
  const heads = o.heads ?? o.weights.length / (R * C);
  if (!Number.isInteger(heads) || heads < 1 || heads * R * C !== o.weights.length) {
    throw new RangeError(`renderAttentionSvg: expected heads x ${R} x ${C} weights${o.heads ? ` with ${o.heads} heads` : ""}, found ${o.weights.length} values`);
  }
  const show = o.show ?? "all";
  if (typeof show === "number" && !(Number.isInteger(show) && show >= 0 && show < heads)) {
    throw new RangeError(`renderAttentionSvg: show: expected a head 0..${heads - 1}, "all" or "average", found ${show}`);
  }
  const per = R * C;
  const head = (h: number) => Array.prototype.slice.call(o.weights, h * per, (h + 1) * per) as number[];
  const panels: Array<{ title: string; w: ArrayLike<number> }> = [];
  if (typeof show === "number") panels.push({ title: `head ${show}`, w: head(show) });
  else {
    if (show === "all" && heads > 1) for (let h = 0; h < heads; h++) panels.push({ title: `head ${h}`, w: head(h) });
    panels.push({ title: heads > 1 ? `mean of ${heads} heads` : "head 0", w: heads > 1 ? meanOf(Array.from({ length: heads }, (_, h) => head(h))) : head(0) });
  }

  const cell = o.cell ?? 26;
  const font = Math.max(9, Math.round(cell * 0.5));
  const gap = 28;
  const left = Math.ceil(Math.max(...o.rows.map((s) => textWidth(s, font)))) + 10;
  // Column labels are drawn at -55 degrees: their height is ~ width * sin 55.
  const top = Math.ceil(Math.max(...o.cols.map((s) => textWidth(s, font))) * 0.82 + font) + 26;
  const pw = C * cell;
  const ph = R * cell;
  const perLine = Math.max(1, Math.min(o.columns ?? Math.floor(1100 / (left + pw + gap)), panels.length));
  const lines = Math.ceil(panels.length / perLine);
  const headerH = (o.title ? 30 : 0) + (o.colAxis || o.rowAxis ? 18 : 0);
  const boxW = left + pw + gap;
  const boxH = top + ph + gap;
  const legendW = 70;
  const width = Math.ceil(16 + perLine * boxW + legendW);
  const height = Math.ceil(headerH + 12 + lines * boxH + 8);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(o.title ?? "attention heatmap")}" font-family="${FONT}">`);
  out.push(`<title>${escapeXml(o.title ?? "attention heatmap")}</title>`);
  out.push(`<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  let y0 = 10;
  if (o.title) {
    out.push(`<text class="title" x="16" y="${y0 + 18}" font-size="16" font-weight="600" fill="#222">${escapeXml(o.title)}</text>`);
    y0 += 30;
  }
  if (o.colAxis || o.rowAxis) {
    const axes = [o.rowAxis && `rows: ${o.rowAxis}`, o.colAxis && `columns: ${o.colAxis}`].filter(Boolean).join(" · ");
    out.push(`<text class="axes" x="16" y="${y0 + 11}" font-size="11" fill="#555">${escapeXml(axes)}</text>`);
    y0 += 18;
  }
  panels.forEach((panel, n) => {
    const px = 16 + (n % perLine) * boxW + left;
    const py = y0 + Math.floor(n / perLine) * boxH + top;
    out.push(`<g class="panel" transform="translate(${px},${py})">`);
    out.push(`<text class="panel-title" x="${fmt(pw / 2)}" y="${-top + 14}" text-anchor="middle" font-size="12" font-weight="600" fill="#333">${escapeXml(panel.title)}</text>`);
    for (let r = 0; r < R; r++) {
      for (let c = 0; c < C; c++) {
        const p = panel.w[r * C + c];
        const tip = `${o.rows[r]} → ${o.cols[c]}: ${Number.isNaN(p) ? "NaN" : p.toFixed(3)}`;
        out.push(`<rect class="cell" x="${c * cell}" y="${r * cell}" width="${cell}" height="${cell}" fill="${attentionColor(p)}"><title>${escapeXml(tip)}</title></rect>`);
      }
    }
    out.push(`<rect class="frame" x="0" y="0" width="${pw}" height="${ph}" fill="none" stroke="#999" stroke-width="0.5"/>`);
    for (let r = 0; r < R; r++) {
      out.push(`<text class="row-label" x="-6" y="${fmt(r * cell + cell / 2)}" dy="0.35em" text-anchor="end" font-size="${font}" fill="#222">${escapeXml(o.rows[r])}</text>`);
    }
    for (let c = 0; c < C; c++) {
      const x = c * cell + cell / 2;
      out.push(`<text class="col-label" transform="translate(${fmt(x)},-6) rotate(-55)" x="0" y="0" dy="0.35em" font-size="${font}" fill="#222">${escapeXml(o.cols[c])}</text>`);
    }
    out.push(`</g>`);
  });
  // Legend: the scale from 0 (bottom) to 1 (top), ticks every 0.25.
  const lx = width - legendW + 8;
  const ly = y0 + top;
  const lh = Math.max(80, Math.min(200, ph));
  out.push(`<g class="legend" transform="translate(${lx},${ly})">`);
  out.push(`<defs><linearGradient id="attention-scale" x1="0" y1="1" x2="0" y2="0">`);
  for (let i = 0; i <= 10; i++) out.push(`<stop offset="${i / 10}" stop-color="${attentionColor(i / 10)}"/>`);
  out.push(`</linearGradient></defs>`);
  out.push(`<rect class="scale" x="0" y="0" width="14" height="${lh}" fill="url(#attention-scale)" stroke="#999" stroke-width="0.5"/>`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const ty = fmt(lh - t * lh);
    out.push(`<line x1="14" y1="${ty}" x2="18" y2="${ty}" stroke="#555" stroke-width="0.8"/>`);
    out.push(`<text class="tick" x="21" y="${ty}" dy="0.35em" font-size="10" fill="#333">${t}</text>`);
  }
  out.push(`<text class="legend-title" x="0" y="-8" font-size="10" fill="#333">p</text>`);
  out.push(`</g>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
