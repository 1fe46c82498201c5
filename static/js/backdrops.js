// Paints the preview: a background (none, a colour, the user's photo, or the original blurred)
// under the cut-out, on a canvas. The maths matches remover/engine/compose.py so the preview and
// the server-rendered downloads agree.

// Relative blur strength of compose.blurred_backdrop: sigma = 0.02 x the longer side.
const BLUR_STRENGTH = 0.02;

// Where to draw `scene` so it covers a width x height canvas, cropped around `focus` ([0,1] each),
// like compose.cover_fit.
export function coverRect(sceneWidth, sceneHeight, width, height, [fx, fy]) {
  const scale = Math.max(width / sceneWidth, height / sceneHeight);
  const w = Math.max(width, Math.round(sceneWidth * scale));
  const h = Math.max(height, Math.round(sceneHeight * scale));
  const clamp = (v) => Math.min(Math.max(v, 0), 1);
  return { x: -Math.round((w - width) * clamp(fx)), y: -Math.round((h - height) * clamp(fy)), w, h };
}

function canvasOf(width, height) {
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

// The original blurred at width x height. Edges are mirrored first (OpenCV's default border),
// otherwise the blur would pull transparent black in from outside and darken the frame.
export function blurredCopy(image, width, height) {
  const sigma = Math.max(1, BLUR_STRENGTH * Math.max(width, height));
  const margin = Math.min(Math.ceil(3 * sigma), width, height);
  const padded = canvasOf(width + 2 * margin, height + 2 * margin);
  const pctx = padded.getContext("2d");
  for (const ix of [-1, 0, 1]) {
    for (const iy of [-1, 0, 1]) {
      pctx.setTransform(ix ? -1 : 1, 0, 0, iy ? -1 : 1, ix === 1 ? margin + 2 * width : margin, iy === 1 ? margin + 2 * height : margin);
      pctx.drawImage(image, 0, 0, width, height);
    }
  }
  const out = canvasOf(width, height);
  const ctx = out.getContext("2d");
  if ("filter" in ctx) {
    ctx.filter = `blur(${sigma}px)`;
    ctx.drawImage(padded, -margin, -margin);
  } else {
    // Browsers without canvas filters: shrinking and smoothly enlarging again blurs about as much.
    const small = canvasOf(Math.max(1, Math.round(padded.width / sigma)), Math.max(1, Math.round(padded.height / sigma)));
    const sctx = small.getContext("2d");
    sctx.imageSmoothingQuality = "high";
    sctx.drawImage(padded, 0, 0, small.width, small.height);
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(small, -margin, -margin, padded.width, padded.height);
  }
  return out;
}

// background: {kind: "transparent"} | {kind: "colour", hex} | {kind: "scene", image, focus}
//             | {kind: "blur", image} (image: the already blurred original, cover-fitted here
//             like compose.cover_fit when the canvas has another shape)
// shadow(ctx): draws the shadow between the background and the cut-out (framing.js).
export function paint(canvas, cutout, background, shadow = null) {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  if (background.kind === "colour") {
    ctx.fillStyle = background.hex;
    ctx.fillRect(0, 0, width, height);
  } else if (background.kind === "scene") {
    const sw = background.image.naturalWidth || background.image.width;
    const sh = background.image.naturalHeight || background.image.height;
    const r = coverRect(sw, sh, width, height, background.focus);
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(background.image, r.x, r.y, r.w, r.h);
  } else if (background.kind === "blur") {
    const r = coverRect(background.image.width, background.image.height, width, height, [0.5, 0.5]);
    ctx.drawImage(background.image, r.x, r.y, r.w, r.h);
  }
  shadow?.(ctx);
  ctx.drawImage(cutout, 0, 0, width, height);
}
