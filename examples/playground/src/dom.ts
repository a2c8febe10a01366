// Small DOM helpers of the page: lookups that fail loudly, element building, number formats.

/** The element with this id (the page's HTML defines every id the code uses). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`playground: no element #${id} in index.html`);
  return e as T;
}

/** An element with attributes and children (strings become text nodes, never HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...children);
  return e;
}

/** Fills a <dl> with term/value pairs, each pair in a <div> (the stats grid's cells). */
export function fillStats(dl: HTMLElement, items: Array<[string, string]>): void {
  dl.replaceChildren(...items.map(([k, v]) => el("div", {}, el("dt", {}, k), el("dd", {}, v))));
}

/** Fills a <dl> with plain term/value pairs (a two-column list). */
export function fillDetails(dl: HTMLElement, items: Array<[string, string | Node]>): void {
  dl.replaceChildren(...items.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
}

/** 1234.5 -> "1,235"; small numbers keep 3 significant digits. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return "–";
  if (Math.abs(x) >= 100) return Math.round(x).toLocaleString("en-US");
  return x.toPrecision(3);
}

/** The message of anything thrown, with the typed error's name ("ModelFormatError: ..."). */
export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** Lets the browser paint (progress bars) between long synchronous stretches. */
export function nextFrame(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
