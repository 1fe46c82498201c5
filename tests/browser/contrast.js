// Evaluated in the page by test_flows.py: WCAG 2 contrast of every visible piece of text
// against the colours behind it. Returns the texts below AA (4.5:1, or 3:1 for large text).
() => {
  const parse = (css) => {
    const m = css.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const parts = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a),
    g: top.g * top.a + under.g * (1 - top.a),
    b: top.b * top.a + under.b * (1 - top.a),
    a: 1,
  });
  const luminance = ({ r, g, b }) => {
    const lin = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  // The colours that can be behind el: translucent backgrounds are stacked over the first
  // opaque one; over an image (unknown pixels) both black and white are tried.
  const backgrounds = (el) => {
    const layers = []; // innermost first
    const stack = (base) => layers.reduceRight((under, top) => over(top, under), base);
    for (let node = el; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      const colour = parse(style.backgroundColor);
      if (colour && colour.a === 1) return [stack(colour)];
      if (colour && colour.a > 0) layers.push(colour);
      if (style.backgroundImage !== "none") {
        return [stack({ r: 0, g: 0, b: 0, a: 1 }), stack({ r: 255, g: 255, b: 255, a: 1 })];
      }
    }
    return [stack({ r: 255, g: 255, b: 255, a: 1 })]; // the browser's canvas
  };

  const failures = [];
  for (const el of document.body.querySelectorAll("*")) {
    const text = Array.from(el.childNodes)
      .filter((n) => n.nodeType === Node.TEXT_NODE)
      .map((n) => n.textContent.trim())
      .join(" ")
      .trim();
    if (!text || !el.checkVisibility({ opacityProperty: true, visibilityProperty: true })) continue;
    if (el.closest(".visually-hidden, [disabled], [aria-disabled='true']")) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    const fg = parse(style.color);
    for (const bg of backgrounds(el)) {
      const value = ratio(over(fg, bg), bg);
      if (value < needed) {
        failures.push({ text: text.slice(0, 40), ratio: Math.round(value * 100) / 100, needed, color: style.color });
        break;
      }
    }
  }
  return failures;
}
