// Downloads. The server renders them (so they match the preview at the size the visitor's
// tier allows); only a background photo of the visitor's own is composited here, because
// the server never receives that photo.

import { coverRect } from "./backdrops.js";

const TYPES = { png: "image/png", webp: "image/webp", jpg: "image/jpeg" };

// The download endpoint's query for a preview background and a format choice (png, webp, jpg
// or mask). A photo of the visitor's own becomes "transparent": it is composited here.
function backgroundQuery(background, format) {
  if (format === "mask") return { format: "png", bg: "mask" };
  if (background.kind === "colour") return { format, bg: background.hex.replace("#", "").toUpperCase() };
  if (background.kind === "blur") return { format, bg: "blur" };
  return { format, bg: "transparent" }; // a transparent JPG comes back on white
}

// Crop, canvas and shadow (framing.js) as the download's query (remover/web/downloads.py).
function framingQuery(framing) {
  if (!framing) return {};
  const query = {};
  if (framing.crop) Object.assign(query, { crop: "1", margin: `${framing.margin}${framing.unit === "%" ? "%" : ""}` });
  if (framing.canvas === "custom") query.canvas = `${framing.size[0]}x${framing.size[1]}`;
  else if (framing.canvas !== "original") query.canvas = framing.canvas;
  if (framing.padding > 0) query.padding = String(framing.padding);
  const [x, y] = framing.position;
  if (x !== 0.5 || y !== 0.5) query.position = `${Math.round(x * 100)},${Math.round(y * 100)}`;
  if (framing.shadow !== "off") Object.assign(query, { shadow: framing.shadow, shadow_strength: String(Math.round(framing.strength * 100)) });
  return query;
}

// choice: {background, format, framing, revision}. The edit's revision makes each edit's
// download a new address, so no cache hands out an older one.
function downloadQuery({ background, format, framing, revision }) {
  const query = { ...backgroundQuery(background, format), ...framingQuery(framing) };
  if (revision) query.rev = String(revision);
  return query;
}

export function needsClientComposite(background, format) {
  return background.kind === "scene" && format !== "mask";
}

function withQuery(path, query) {
  return `${path}?${new URLSearchParams(query)}`;
}

export function downloadHref(job, choice) {
  return withQuery(job.urls.download, downloadQuery(choice));
}

// The whole batch as a ZIP, in the chosen format, background and framing where the server can
// render it; each image carries its own edit.
export function batchHref(job, choice) {
  return withQuery(job.urls.batch_download, downloadQuery({ ...choice, revision: 0 }));
}

export function describeFormat(background, format) {
  if (format === "mask") return "Black-and-white mask of the subject, for photo editors.";
  if (background.kind === "transparent") {
    return format === "jpg" ? "JPG can't be transparent, so the background will be white." : "Transparent background.";
  }
  return "With the background you chose.";
}

function stem(name) {
  return (name || "image").replace(/\.[^.]*$/, "") || "image";
}

function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// Fetches the transparent cut-out at the allowed download size and puts it over the
// visitor's photo, cover-fitted around the same focus as in the preview.
export async function downloadOverScene(job, scene, focus, choice) {
  const { format } = choice;
  const transparent = { ...choice, background: { kind: "transparent" }, format: "png" };
  const response = await fetch(downloadHref(job, transparent), { credentials: "same-origin" });
  if (!response.ok) throw new Error("The download failed. Please try again.");
  const cutout = await createImageBitmap(await response.blob());
  const canvas = document.createElement("canvas");
  canvas.width = cutout.width;
  canvas.height = cutout.height;
  const ctx = canvas.getContext("2d");
  const r = coverRect(scene.naturalWidth, scene.naturalHeight, canvas.width, canvas.height, focus);
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(scene, r.x, r.y, r.w, r.h);
  ctx.drawImage(cutout, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, TYPES[format], 0.92));
  if (!blob) throw new Error("Your browser couldn't create this file. Try PNG instead.");
  save(blob, `${stem(job.name)}-cutout.${format}`);
}

const px = ([w, h]) => `${w}×${h} px`;

// The sentence next to the download button: what size this download has and, for the free
// tier, what Pro would give.
export function capNote(job, loginUrl) {
  const note = document.createDocumentFragment();
  const strong = (text) => Object.assign(document.createElement("strong"), { textContent: text });
  const [dw, dh] = job.download_size;
  const [pw, ph] = job.pro_size;
  const [fw, fh] = job.full_size;
  if (job.tier === "pro") {
    note.append("Pro download: ", strong(px(job.download_size)));
    if (pw !== fw || ph !== fh) note.append(` (the original is ${px(job.full_size)})`);
    note.append(".");
    return note;
  }
  if (dw === pw && dh === ph) {
    note.append("Free download at full size: ", strong(px(job.download_size)), ".");
    return note;
  }
  note.append("Free download: ", strong(px(job.download_size)), `. Pro: full ${px(job.pro_size)}`);
  if (loginUrl) {
    note.append(" — ", Object.assign(document.createElement("a"), { href: loginUrl, textContent: "sign in" }));
  }
  note.append(".");
  return note;
}
