// The touch-up brush on the preview: Erase and Restore strokes over the AI result, painted
// with the rules of remover/engine/brush.py so the page shows while painting what the server
// renders at full size. Coordinates here are pixels of the preview, (0, 0) its top-left
// corner, pixel centres at +0.5.

// Restore lifts the model's own alpha back over this share of the brush's edge (engine: _RESTORE_LIFT).
const RESTORE_LIFT = 4;

// The brush profile: 1 up to hardness x radius, a smoothstep down to 0 at the radius.
function strengthAt(distance, radius, hardness) {
  const ramp = Math.max(1, radius * (1 - hardness));
  const t = Math.min(Math.max((radius - distance) / ramp, 0), 1);
  return t * t * (3 - 2 * t);
}

function distanceToSegment(px, py, ax, ay, bx, by) {
  const dx = bx - ax;
  const dy = by - ay;
  const length2 = dx * dx + dy * dy;
  const t = length2 ? Math.min(Math.max(((px - ax) * dx + (py - ay) * dy) / length2, 0), 1) : 0;
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

// stroke: {mode: "erase"|"restore", radius, hardness, points: [[x, y], ...]} in preview pixels.
export class TouchUp {
  // ai, photo: ImageData of the AI cut-out (RGBA) and the original photo, same size.
  constructor(ai, photo) {
    this.width = ai.width;
    this.height = ai.height;
    this.ai = ai.data;
    this.photo = photo.data;
    this.result = new ImageData(new Uint8ClampedArray(ai.data), ai.width, ai.height);
    this.canvas = document.createElement("canvas");
    this.canvas.width = ai.width;
    this.canvas.height = ai.height;
    this.ctx = this.canvas.getContext("2d");
    this.ctx.putImageData(this.result, 0, 0);
    // Working copies as floats (alpha 0-1, colour 0-255) holding the 8-bit values of the result.
    this.alpha = Float32Array.from(ai.data.filter((_, i) => i % 4 === 3), (v) => v / 255);
    this.colour = Float32Array.from(ai.data.filter((_, i) => i % 4 !== 3));
    this.live = null; // the stroke being painted: {stroke, coverage, before}
  }

  reset() {
    const n = this.width * this.height;
    for (let i = 0; i < n; i++) {
      this.alpha[i] = this.ai[4 * i + 3] / 255;
      for (let c = 0; c < 3; c++) this.colour[3 * i + c] = this.ai[4 * i + c];
    }
    this.result.data.set(this.ai);
    this.ctx.putImageData(this.result, 0, 0);
  }

  // Back to the AI result, then every stroke in order (undo, redo, a reload).
  replay(strokes) {
    this.reset();
    for (const stroke of strokes) this.applyWhole(stroke);
    this.ctx.putImageData(this.result, 0, 0);
  }

  bounds(points, radius) {
    const reach = radius + 1;
    const xs = points.map((p) => p[0]);
    const ys = points.map((p) => p[1]);
    const x0 = Math.max(0, Math.floor(Math.min(...xs) - reach));
    const y0 = Math.max(0, Math.floor(Math.min(...ys) - reach));
    const x1 = Math.min(this.width, Math.ceil(Math.max(...xs) + reach));
    const y1 = Math.min(this.height, Math.ceil(Math.max(...ys) + reach));
    return x0 < x1 && y0 < y1 ? { x0, y0, x1, y1 } : null;
  }

  // Raises `coverage` (per pixel of the image) to the strength of segment a-b.
  cover(coverage, a, b, radius, hardness) {
    const box = this.bounds([a, b], radius);
    if (!box) return null;
    for (let y = box.y0; y < box.y1; y++) {
      for (let x = box.x0; x < box.x1; x++) {
        const s = strengthAt(distanceToSegment(x + 0.5, y + 0.5, a[0], a[1], b[0], b[1]), radius, hardness);
        const i = y * this.width + x;
        if (s > coverage[i]) coverage[i] = s;
      }
    }
    return box;
  }

  // Applies a stroke's coverage inside `box` to the `before` state (alpha, colour) -> current.
  mix(mode, coverage, box, before) {
    const { alpha, colour, ai, photo, width } = this;
    const out = this.result.data;
    for (let y = box.y0; y < box.y1; y++) {
      for (let x = box.x0; x < box.x1; x++) {
        const i = y * width + x;
        const c = coverage[i];
        const a = before ? before.alpha[i] : alpha[i];
        let na = a;
        if (c > 0) {
          if (mode === "erase") {
            na = a * (1 - c);
          } else {
            const model = ai[4 * i + 3] / 255;
            const restored = Math.max(a, c, model * Math.min(1, RESTORE_LIFT * c));
            const gained = restored - a;
            if (gained > 0) {
              const fromPhoto = Math.min(Math.max((c - model) * RESTORE_LIFT, 0), 1);
              for (let k = 0; k < 3; k++) {
                const old = before ? before.colour[3 * i + k] : colour[3 * i + k];
                const back = ai[4 * i + k] * (1 - fromPhoto) + photo[4 * i + k] * fromPhoto;
                colour[3 * i + k] = (old * a + back * gained) / Math.max(restored, 1e-6);
              }
            } else if (before) {
              for (let k = 0; k < 3; k++) colour[3 * i + k] = before.colour[3 * i + k];
            }
            na = restored;
          }
        } else if (before) {
          for (let k = 0; k < 3; k++) colour[3 * i + k] = before.colour[3 * i + k];
        }
        // Uint8ClampedArray rounds to the nearest level; the state keeps the 8-bit values, as
        // the engine does between strokes.
        out[4 * i] = colour[3 * i];
        out[4 * i + 1] = colour[3 * i + 1];
        out[4 * i + 2] = colour[3 * i + 2];
        out[4 * i + 3] = na * 255;
        alpha[i] = out[4 * i + 3] / 255;
        colour[3 * i] = out[4 * i];
        colour[3 * i + 1] = out[4 * i + 1];
        colour[3 * i + 2] = out[4 * i + 2];
      }
    }
  }

  applyWhole(stroke) {
    const box = this.bounds(stroke.points, stroke.radius);
    if (!box) return;
    const coverage = new Float32Array(this.width * this.height);
    const { points, radius, hardness } = stroke;
    for (let k = 0; k < points.length; k++) this.cover(coverage, points[Math.max(0, k - 1)], points[k], radius, hardness);
    this.mix(stroke.mode, coverage, box, null);
  }

  // Painting: the stroke grows point by point; each step re-mixes only the pixels it reached,
  // from the state before the stroke (a stroke darkens once, however often it passes).
  begin(mode, radius, hardness, point) {
    const stroke = { mode, radius, hardness, points: [point] };
    this.live = {
      stroke,
      coverage: new Float32Array(this.width * this.height),
      before: { alpha: this.alpha.slice(), colour: this.colour.slice() },
    };
    this.extendTo(point);
    return stroke;
  }

  extendTo(point) {
    const { stroke, coverage, before } = this.live;
    const last = stroke.points[stroke.points.length - 1];
    if (point !== last) stroke.points.push(point);
    const box = this.cover(coverage, last, point, stroke.radius, stroke.hardness);
    if (!box) return;
    this.mix(stroke.mode, coverage, box, before);
    this.ctx.putImageData(this.result, 0, 0, box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0);
  }

  end() {
    const { stroke } = this.live;
    this.live = null;
    return stroke;
  }

  // A stroke given up (a second finger came down to pinch): back to the state before it.
  cancel() {
    if (!this.live) return;
    this.alpha.set(this.live.before.alpha);
    this.colour.set(this.live.before.colour);
    this.live = null;
    const n = this.width * this.height;
    const out = this.result.data;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) out[4 * i + k] = this.colour[3 * i + k];
      out[4 * i + 3] = this.alpha[i] * 255;
    }
    this.ctx.putImageData(this.result, 0, 0);
  }
}
