// A small XML well-formedness checker for the SVG tests (no DOM in Node).

/**
 * Checks XML well-formedness the way a parser would: tags nest and close in order, attribute
 * values are quoted, only the five predefined or numeric entities appear, no raw '<' or '&' in
 * text, one root element. Returns the element names in document order (with their attributes).
 */
export function parseXml(xml: string): Array<{ name: string; attrs: Record<string, string>; text: string }> {
  const stack: string[] = [];
  const elements: Array<{ name: string; attrs: Record<string, string>; text: string }> = [];
  const open: Array<{ text: string }> = [];
  let roots = 0;
  let i = 0;
  const checkText = (t: string) => {
    if (/<|&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(t)) throw new Error(`bad character data: ${JSON.stringify(t.slice(0, 40))}`);
  };
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (stack.length === 0 && text.trim() !== "") throw new Error(`text outside the root: ${JSON.stringify(text.slice(0, 40))}`);
    checkText(text);
    if (open.length > 0) open[open.length - 1].text += text;
    if (lt < 0) break;
    const gt = xml.indexOf(">", lt);
    if (gt < 0) throw new Error("unterminated tag");
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith("/")) {
      const name = tag.slice(1).trim();
      const top = stack.pop();
      open.pop();
      if (top !== name) throw new Error(`</${name}> closes <${top}>`);
      continue;
    }
    const selfClosing = tag.endsWith("/");
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_:][\w:.-]*="[^"<]*")*)\s*$/.exec(body);
    if (!m) throw new Error(`malformed tag <${tag}>`);
    const attrs: Record<string, string> = {};
    for (const a of m[2].matchAll(/([A-Za-z_:][\w:.-]*)="([^"]*)"/g)) {
      if (a[1] in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      checkText(a[2]);
      attrs[a[1]] = a[2];
    }
    if (stack.length === 0) roots++;
    const el = { name: m[1], attrs, text: "" };
    elements.push(el);
    if (!selfClosing) {
      stack.push(m[1]);
      open.push(el);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join("><")}>`);
  if (roots !== 1) throw new Error(`expected one root element, found ${roots}`);
  return elements;
}
