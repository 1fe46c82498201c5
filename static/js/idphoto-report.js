// An ID photo's compliance report (remover/idphoto/report.py) in plain words, and its guides
// (head band, eye band, measured lines) drawn over the photo.

const SVG = "http://www.w3.org/2000/svg";

const number = (value) => Number(value).toLocaleString("en", { maximumFractionDigits: 2 });

// A measured value or a limit with its unit, as a person would write it.
function amount(value, unit) {
  if (unit === "faces") return value === 1 ? "1 face" : `${value} faces`;
  if (unit === "ratio") return number(value);
  if (unit === "degrees") return `${number(value)}°`;
  if (unit === "× enlargement") return `${number(value)}×`;
  if (unit.startsWith("%")) return `${number(value)} %`;
  return `${number(value)} ${unit}`;
}

const pixels = ([width, height]) => `${width}×${height} px`;

function allowed({ allowed: [low, high], unit, id }) {
  if (id === "pixels") return high ? `${pixels(low)} to ${pixels(high)}` : `at least ${pixels(low)}`;
  if (high === null || high === undefined) return `${unit === "mm" ? "more than" : "at least"} ${amount(low, unit)}`;
  if (low === null || low === undefined) return `at most ${amount(high, unit)}`;
  if (low === high) return `exactly ${amount(low, unit)}`;
  if (unit === "degrees" && low === -high) return `within ±${amount(high, unit)}`;
  if (low === 0) return `at most ${amount(high, unit)}`;
  return `${number(low)}–${amount(high, unit)}`;
}

export function describeCheck(check) {
  if (check.value === null || check.value === undefined) return `Not measured; allowed ${allowed(check)}.`;
  const measured = check.id === "pixels" ? pixels(check.value) : amount(check.value, check.unit);
  return `Measured ${measured}; allowed ${allowed(check)}.`;
}

// Fills the checklist from the report; returns how many checks failed.
export function renderChecks(list, template, report) {
  const items = report.checks.map((check) => {
    const item = template.content.firstElementChild.cloneNode(true);
    item.classList.add(check.passed ? "check--pass" : "check--fail");
    item.querySelector(".check__label").textContent = check.label;
    item.querySelector(".check__verdict").textContent = check.passed ? "Pass" : "Fail";
    item.querySelector(".check__values").textContent = describeCheck(check);
    item.querySelector(".check__message").textContent = check.message;
    const source = item.querySelector(".check__source");
    source.textContent = check.source ? `Rule: ${check.source}` : "";
    source.hidden = !check.source;
    return item;
  });
  list.replaceChildren(...items);
  return report.checks.filter((check) => !check.passed).length;
}

function shape(name, attributes, className) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  element.setAttribute("class", className);
  return element;
}

// The bands where the crown and the eyes must be, and the lines where they were measured, in
// the photo's own pixels (the SVG's viewBox), so they scale with the image. A line that could
// not be measured on the photo (null) is not drawn.
export function drawGuides(svg, guides) {
  const { width, height } = guides;
  const band = ([top, bottom], kind) =>
    shape("rect", { x: 0, y: top, width, height: Math.max(0, bottom - top) }, `guides__band guides__band--${kind}`);
  const line = (y, kind) => {
    const ends = { x1: 0, x2: width, y1: y, y2: y, "vector-effect": "non-scaling-stroke" };
    return shape("line", ends, `guides__line guides__line--${kind}`);
  };
  const shapes = [band(guides.crown_band_y, "head")];
  if (guides.eye_band_y) shapes.push(band(guides.eye_band_y, "eyes"));
  for (const [y, kind] of [[guides.crown_y, "head"], [guides.eye_line_y, "eyes"], [guides.chin_y, "head"]]) {
    if (y !== null && y !== undefined) shapes.push(line(y, kind));
  }
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.replaceChildren(...shapes);
  return Boolean(guides.eye_band_y);
}
