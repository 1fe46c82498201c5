// Crop to subject, canvas presets and shadows for the preview, with the rules and constants of
// remover/engine/canvas.py: the layout is the server's, computed at preview size.

export const SUBJECT_ALPHA = 16;
const ASPECTS = { "1:1": [1, 1], "4:5": [4, 5], "9:16": [9, 16], "16:9": [16, 9] };
const DROP_OFFSET = [0.015, 0.04]; // x the subject box's longer side
const DROP_SIGMA = 0.015;
const CONTACT_HEIGHT = 0.08; // x the subject box's height
const CONTACT_SIGMA = 0.015;
const MIN_SIGMA = 0.6;

// {left, top, right, bottom} of alpha >= SUBJECT_ALPHA in an ImageData; null when empty.
export function subjectBox(image) {
  const { width, height, data } = image;
  let left = width;
  let right = -1;
  let top = -1;
  let bottom = -1;
  for (let y = 0; y < height; y++) {
    let row = false;
    for (let x = 0; x < width; x++) {
      if (data[4 * (y * width + x) + 3] >= SUBJECT_ALPHA) {
        row = true;
        if (x < left) left = x;
        if (x > right) right = x;
      }
    }
    if (row) {
      if (top < 0) top = y;
      bottom = y;
    }
  }
  return top < 0 ? null : { left, top, right: right + 1, bottom: bottom + 1 };
}

function canvasSize([w, h], preset, padding, custom) {
  if (preset === "custom") return custom;
  const p = padding / 100;
  if (preset === "original") {
    const short = Math.min(w, h) / (1 - 2 * p);
    return [Math.round(w + short - Math.min(w, h)), Math.round(h + short - Math.min(w, h))];
  }
  const [rw, rh] = ASPECTS[preset];
  const inset = 2 * p * Math.min(rw, rh);
  const unit = Math.max(w / (rw - inset), h / (rh - inset));
  return [Math.max(1, Math.ceil(unit * rw - 1e-6)), Math.max(1, Math.ceil(unit * rh - 1e-6))];
}

function plan([w, h], [cw, ch], padding, [px, py]) {
  const inset = Math.round((Math.min(cw, ch) * padding) / 100);
  const roomW = Math.max(1, cw - 2 * inset);
  const roomH = Math.max(1, ch - 2 * inset);
  const fit = Math.min(roomW / w, roomH / h);
  const bw = Math.max(1, Math.min(roomW, Math.round(w * fit)));
  const bh = Math.max(1, Math.min(roomH, Math.round(h * fit)));
  return { canvas: [cw, ch], box: [inset + Math.round((roomW - bw) * px), inset + Math.round((roomH - bh) * py), bw, bh] };
}

function fitted(placement, maxPixels) {
  const [cw, ch] = placement.canvas;
  if (cw * ch <= maxPixels) return placement;
  const f = Math.sqrt(maxPixels / (cw * ch));
  const canvas = [Math.max(1, Math.floor(cw * f)), Math.max(1, Math.floor(ch * f))];
  const fx = canvas[0] / cw;
  const fy = canvas[1] / ch;
  const [x, y, w, h] = placement.box;
  const w2 = Math.max(1, Math.min(canvas[0], Math.round(w * fx)));
  const h2 = Math.max(1, Math.min(canvas[1], Math.round(h * fy)));
  return {
    canvas,
    box: [Math.min(Math.max(0, Math.round(x * fx)), canvas[0] - w2), Math.min(Math.max(0, Math.round(y * fy)), canvas[1] - h2), w2, h2],
  };
}

// framing: {crop, margin, unit, canvas ("original" | "1:1" | ... | "custom"), size: [w, h] (full
// pixels), padding, position: [x, y] (0-1), shadow, strength (0-1)}. image: the edited cut-out's
// ImageData; pxScale: preview pixels per full-size pixel (for px margins and custom sizes).
// Returns {source: [left, top, width, height] of the cut-out, canvas, box} or null (no change).
export function layout(framing, image, pxScale) {
  const places = framing.canvas !== "original" || framing.padding > 0;
  if (!framing.crop && !places) return null;
  let source = [0, 0, image.width, image.height];
  if (framing.crop) {
    const box = subjectBox(image);
    if (box) {
      const bw = box.right - box.left;
      const bh = box.bottom - box.top;
      const [mx, my] = framing.unit === "%"
        ? [Math.round((bw * framing.margin) / 100), Math.round((bh * framing.margin) / 100)]
        : [Math.round(framing.margin * pxScale), Math.round(framing.margin * pxScale)];
      source = [box.left - mx, box.top - my, bw + 2 * mx, bh + 2 * my];
    }
  }
  const content = [source[2], source[3]];
  // A custom canvas is full-size pixels: the preview shows it at the same scale as the photo.
  const custom = framing.size && [Math.max(1, Math.round(framing.size[0] * pxScale)), Math.max(1, Math.round(framing.size[1] * pxScale))];
  const full = plan(content, canvasSize(content, framing.canvas, framing.padding, custom), framing.padding, framing.position);
  return { source, ...fitted(full, image.width * image.height) };
}

function canvasOf([width, height]) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

// `drawable` (cut-out or photo, preview size) placed on a canvas as `lay` says.
export function placed(drawable, lay) {
  const out = canvasOf(lay.canvas);
  const ctx = out.getContext("2d");
  const [sx, sy, sw, sh] = lay.source;
  const [x, y, w, h] = lay.box;
  ctx.imageSmoothingQuality = "high";
  // Margins past the photo: only the part on the photo is drawn, scaled like the whole.
  const cx0 = Math.max(sx, 0);
  const cy0 = Math.max(sy, 0);
  const cx1 = Math.min(sx + sw, drawable.width);
  const cy1 = Math.min(sy + sh, drawable.height);
  if (cx1 > cx0 && cy1 > cy0) {
    const kx = w / sw;
    const ky = h / sh;
    ctx.drawImage(drawable, cx0, cy0, cx1 - cx0, cy1 - cy0, x + (cx0 - sx) * kx, y + (cy0 - sy) * ky, (cx1 - cx0) * kx, (cy1 - cy0) * ky);
  }
  return out;
}

// The subject box on the placed canvas: the cut-out's box through the layout's transform.
export function placedBox(box, lay) {
  const [sx, sy, sw, sh] = lay.source;
  const [x, y, w, h] = lay.box;
  const kx = w / sw;
  const ky = h / sh;
  return {
    left: Math.round(x + (box.left - sx) * kx), top: Math.round(y + (box.top - sy) * ky),
    right: Math.round(x + (box.right - sx) * kx), bottom: Math.round(y + (box.bottom - sy) * ky),
  };
}

// Draws the shadow of `cutout` (a canvas the size of ctx's) onto ctx: black, `strength` 0-1,
// "drop" (moved right and down, blurred) or "contact" (squashed onto the bottom edge).
export function drawShadow(ctx, cutout, box, style, strength) {
  if (!box || style === "off" || strength <= 0) return;
  const silhouette = canvasOf([cutout.width, cutout.height]);
  const sctx = silhouette.getContext("2d");
  sctx.drawImage(cutout, 0, 0);
  sctx.globalCompositeOperation = "source-in";
  sctx.fillStyle = "#000";
  sctx.fillRect(0, 0, silhouette.width, silhouette.height);
  const bw = box.right - box.left;
  const bh = box.bottom - box.top;
  const longer = Math.max(bw, bh);
  ctx.save();
  ctx.globalAlpha = strength;
  if (style === "drop") {
    const sigma = DROP_SIGMA * longer;
    if (sigma >= MIN_SIGMA) ctx.filter = `blur(${sigma}px)`;
    ctx.drawImage(silhouette, Math.round(DROP_OFFSET[0] * longer), Math.round(DROP_OFFSET[1] * longer));
  } else {
    const sigma = CONTACT_SIGMA * longer;
    if (sigma >= MIN_SIGMA) ctx.filter = `blur(${sigma}px)`;
    const flat = Math.max(1, Math.round(CONTACT_HEIGHT * bh));
    ctx.drawImage(silhouette, box.left, box.top, bw, bh, box.left, box.bottom - Math.floor(flat / 2), bw, flat);
  }
  ctx.restore();
}
