// Horizontal grouped bar charts as standalone SVG (no dependencies) for the e2e bench: one group per model,
// one bar per series, a log10 axis (the figures span orders of magnitude), the value printed at each bar.

/** One bar series (e.g. "ours 1 thread"). */
export interface Series {
  name: string;
  color: string;
}

/** One chart panel: a title, groups of values (NaN or undefined = not measured, drawn as "n/a"). */
export interface Panel {
  title: string;
  unit: string;
  groups: Array<{ label: string; values: Array<number | undefined> }>;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A value with 3 significant digits and thousands kept readable. */
export function fmt(v: number): string {
  if (v >= 1000) return Math.round(v).toLocaleString("en-US");
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** Renders panels stacked vertically with a shared legend; `note` goes under the title. */
export function barChartSvg(title: string, note: string, series: Series[], panels: Panel[]): string {
  const W = 860;
  const labelW = 120;
  const valueW = 70;
  const barH = 13;
  const gap = 2;
  const groupGap = 12;
  const plotX = labelW + 10;
  const plotW = W - plotX - valueW;
  const out: string[] = [];
  let y = 30;
  out.push(`<text x="${W / 2}" y="${y}" text-anchor="middle" font-size="17" font-weight="bold">${esc(title)}</text>`);
  y += 20;
  out.push(`<text x="${W / 2}" y="${y}" text-anchor="middle" font-size="11" fill="#555">${esc(note)}</text>`);
  y += 22;
  // Legend.
  let lx = plotX;
  for (const s of series) {
    out.push(`<rect x="${lx}" y="${y - 10}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 16}" y="${y}" font-size="12">${esc(s.name)}</text>`);
    lx += 24 + s.name.length * 7;
  }
  y += 14;
  for (const p of panels) {
    const vals = p.groups.flatMap((g) => g.values).filter((v): v is number => v !== undefined && Number.isFinite(v) && v > 0);
    if (vals.length === 0) continue;
    const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...vals))));
    const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...vals)) + 1e-9));
    const xOf = (v: number) => plotX + (plotW * (Math.log10(v) - Math.log10(lo))) / (Math.log10(hi) - Math.log10(lo));
    y += 24;
    out.push(`<text x="${plotX}" y="${y}" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
    out.push(`<text x="${W - valueW}" y="${y}" font-size="11" fill="#555" text-anchor="end">${esc(p.unit)}, log scale</text>`);
    y += 10;
    const top = y;
    const groupH = series.length * (barH + gap);
    const height = p.groups.length * (groupH + groupGap);
    // Grid lines at every power of ten.
    for (let v = lo; v <= hi * 1.001; v *= 10) {
      const x = xOf(v);
      out.push(`<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${top + height}" stroke="#ddd"/>`);
      const tick = v >= 1 ? Math.round(v).toLocaleString("en-US") : String(Number(v.toPrecision(1)));
      out.push(`<text x="${x.toFixed(1)}" y="${top + height + 12}" font-size="10" fill="#777" text-anchor="middle">${tick}</text>`);
    }
    for (const g of p.groups) {
      out.push(`<text x="${labelW}" y="${y + groupH / 2 + 4}" font-size="12" text-anchor="end">${esc(g.label)}</text>`);
      g.values.forEach((v, i) => {
        const by = y + i * (barH + gap);
        if (v === undefined || !Number.isFinite(v) || v <= 0) {
          out.push(`<text x="${plotX + 4}" y="${by + barH - 3}" font-size="10" fill="#999">n/a</text>`);
          return;
        }
        const x1 = xOf(v);
        out.push(`<rect x="${plotX}" y="${by}" width="${Math.max(1, x1 - plotX).toFixed(1)}" height="${barH}" fill="${series[i].color}"><title>${esc(`${g.label} ${series[i].name}: ${fmt(v)} ${p.unit}`)}</title></rect>`);
        out.push(`<text x="${(x1 + 4).toFixed(1)}" y="${by + barH - 3}" font-size="10">${fmt(v)}</text>`);
      });
      y += groupH + groupGap;
    }
    out.push(`<line x1="${plotX}" y1="${top}" x2="${plotX}" y2="${top + height}" stroke="#333"/>`);
    y += 18;
  }
  const H = y + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">\n` +
    `<rect width="${W}" height="${H}" fill="white"/>\n${out.join("\n")}\n</svg>\n`;
}
