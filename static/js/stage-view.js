// Sizes the preview to fit the screen, zooms it (the viewport then scrolls), and decides what a
// drag on the picture does: move the before/after line, pan a zoomed view with the mouse, move
// the user's background photo, or paint with the touch-up brush. While the brush is on, the
// mouse wheel zooms at the pointer and the middle button (or Space + drag) pans; on a touch
// screen one finger paints and two fingers pan and pinch-zoom, and the page does not scroll.

import { trackPointerDelta } from "./pointer-drag.js";

const ZOOMS = [1, 1.5, 2, 3, 4, 6, 8];
const MAX_ZOOM = ZOOMS[ZOOMS.length - 1];

const HINTS = {
  compare: "Drag the line to compare",
  zoomed: "Drag or scroll to look around",
  scene: "Drag the picture to move your photo",
  paint: "Paint on the picture · wheel or pinch to zoom",
};

export class StageView {
  constructor({ viewport, stage, zoomIn, zoomOut, zoomFit, zoomLevel, hint }, slider) {
    Object.assign(this, { viewport, stage, zoomIn, zoomOut, zoomLevel, hint, slider });
    this.zoom = 1;
    this.aspect = 1;
    this.sceneMover = null;
    this.painter = null;
    this.touches = new Map(); // pointerId -> {x, y} of the fingers on the picture
    this.pinch = null;
    this.spaceHeld = false;

    zoomIn.addEventListener("click", () => this.setZoom(ZOOMS.find((z) => z > this.zoom + 1e-6) ?? this.zoom));
    zoomOut.addEventListener("click", () => this.setZoom([...ZOOMS].reverse().find((z) => z < this.zoom - 1e-6) ?? 1));
    zoomFit.addEventListener("click", () => this.setZoom(1));
    stage.addEventListener("pointerdown", (event) => this.pointerDown(event));
    stage.addEventListener("pointermove", (event) => this.pointerMove(event));
    stage.addEventListener("pointerup", (event) => this.pointerUp(event));
    stage.addEventListener("pointercancel", (event) => this.pointerUp(event, true));
    stage.addEventListener("pointerleave", (event) => this.painter?.hover(null, event));
    viewport.addEventListener("wheel", (event) => this.wheel(event), { passive: false });
    window.addEventListener("keydown", (event) => {
      if (event.code === "Space" && this.painter && event.target === document.body) {
        this.spaceHeld = true;
        event.preventDefault(); // no page scroll while Space pans
      }
    });
    window.addEventListener("keyup", (event) => {
      if (event.code === "Space") this.spaceHeld = false;
    });
    new ResizeObserver(() => this.layout()).observe(viewport.parentElement);
    window.addEventListener("resize", () => this.layout());
  }

  setImageSize(width, height) {
    const aspect = width / height;
    if (Math.abs(aspect - this.aspect) < 1e-9) return this.layout();
    this.aspect = aspect;
    this.setZoom(1);
  }

  // mover(dxFraction, dyFraction) receives drags as fractions of the picture; null turns it off.
  setSceneMover(mover) {
    this.sceneMover = mover;
    this.refreshMode();
  }

  // painter: {start(event), move(event), end(), cancel(), hover(event|null)} or null.
  setPainter(painter) {
    this.painter = painter;
    this.refreshMode();
  }

  layout() {
    const available = this.viewport.parentElement.clientWidth;
    if (!available) return;
    const maxHeight = Math.min(window.innerHeight * 0.7, 760);
    const fitWidth = Math.min(available, maxHeight * this.aspect);
    this.viewport.style.height = `${Math.round(fitWidth / this.aspect)}px`;
    this.stage.style.width = `${Math.round(fitWidth * this.zoom)}px`;
    this.stage.style.height = `${Math.round((fitWidth * this.zoom) / this.aspect)}px`;
  }

  // Zooms keeping the picture's point under `anchor` ({x, y} client pixels; default the
  // centre of the view) where it is.
  setZoom(zoom, anchor = null) {
    const view = this.viewport.getBoundingClientRect();
    const before = this.stage.getBoundingClientRect();
    const ax = anchor ? anchor.x : view.left + view.width / 2;
    const ay = anchor ? anchor.y : view.top + view.height / 2;
    const fx = before.width ? (ax - before.left) / before.width : 0.5;
    const fy = before.height ? (ay - before.top) / before.height : 0.5;
    this.zoom = Math.min(Math.max(zoom, 1), MAX_ZOOM);
    this.layout();
    this.viewport.scrollLeft = fx * this.stage.offsetWidth - (ax - view.left);
    this.viewport.scrollTop = fy * this.stage.offsetHeight - (ay - view.top);

    this.zoomLevel.value = `${Math.round(this.zoom * 100)}%`;
    this.zoomOut.disabled = this.zoom <= ZOOMS[0] + 1e-6;
    this.zoomIn.disabled = this.zoom >= MAX_ZOOM - 1e-6;
    // A zoomed view is a scroll area: make it reachable with the keyboard to pan with arrow keys.
    if (this.zoom > 1) {
      this.viewport.tabIndex = 0;
      this.viewport.setAttribute("aria-label", "Zoomed preview; use the arrow keys to look around");
    } else {
      this.viewport.removeAttribute("tabindex");
      this.viewport.removeAttribute("aria-label");
    }
    this.refreshMode();
  }

  refreshMode() {
    const mode = this.painter ? "paint" : this.sceneMover ? "scene" : this.zoom > 1 ? "zoomed" : "compare";
    this.stage.classList.toggle("is-zoomed", mode === "zoomed");
    this.stage.classList.toggle("is-moving-scene", mode === "scene");
    this.stage.classList.toggle("is-painting", mode === "paint");
    this.hint.textContent = HINTS[mode];
  }

  pan(dx, dy) {
    this.viewport.scrollLeft -= dx;
    this.viewport.scrollTop -= dy;
  }

  wheel(event) {
    if (!this.painter) return; // otherwise the page scrolls as usual
    event.preventDefault();
    this.setZoom(this.zoom * Math.exp(-event.deltaY * 0.0015), { x: event.clientX, y: event.clientY });
  }

  pointerDown(event) {
    if (this.painter) return this.paintDown(event);
    if (event.button !== 0) return;
    if (this.sceneMover) {
      trackPointerDelta(event, (dx, dy) => this.sceneMover(dx / this.stage.offsetWidth, dy / this.stage.offsetHeight));
    } else if (this.zoom > 1) {
      // Touch pans natively (touch-action: auto); the mouse needs a hand.
      if (event.pointerType === "mouse") trackPointerDelta(event, (dx, dy) => this.pan(dx, dy));
    } else this.slider.drag(event);
  }

  paintDown(event) {
    event.preventDefault();
    if (event.pointerType === "touch") {
      this.stage.setPointerCapture(event.pointerId);
      this.touches.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (this.touches.size === 1) {
        this.painter.start(event);
      } else if (this.touches.size === 2) {
        this.painter.cancel(); // the first finger was the start of a pinch, not a stroke
        this.startPinch();
      }
      return;
    }
    if (event.button === 1 || (event.button === 0 && this.spaceHeld)) {
      trackPointerDelta(event, (dx, dy) => this.pan(dx, dy));
      return;
    }
    if (event.button !== 0) return;
    this.stage.setPointerCapture(event.pointerId);
    this.painting = event.pointerId;
    this.painter.start(event);
  }

  startPinch() {
    const [a, b] = [...this.touches.values()];
    this.pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, zoom: this.zoom, mid: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
  }

  pointerMove(event) {
    if (!this.painter) return;
    if (event.pointerType === "touch" && this.touches.has(event.pointerId)) {
      this.touches.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (this.pinch && this.touches.size >= 2) {
        const [a, b] = [...this.touches.values()];
        const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
        this.pan(mid.x - this.pinch.mid.x, mid.y - this.pinch.mid.y);
        this.setZoom((this.pinch.zoom * Math.hypot(a.x - b.x, a.y - b.y)) / this.pinch.distance, mid);
        this.pinch.mid = mid;
        this.pinch.zoom = this.zoom;
        this.pinch.distance = Math.hypot(a.x - b.x, a.y - b.y) || 1;
      } else if (!this.pinch) this.painter.move(event);
      return;
    }
    if (this.painting === event.pointerId) this.painter.move(event);
    else if (event.pointerType !== "touch") this.painter.hover(event);
  }

  pointerUp(event, cancelled = false) {
    if (!this.painter) return;
    if (event.pointerType === "touch" && this.touches.has(event.pointerId)) {
      this.touches.delete(event.pointerId);
      if (this.pinch) {
        if (this.touches.size === 0) this.pinch = null; // lifting the fingers never paints
        return;
      }
      if (cancelled) this.painter.cancel();
      else this.painter.end();
      return;
    }
    if (this.painting === event.pointerId) {
      this.painting = null;
      if (cancelled) this.painter.cancel();
      else this.painter.end();
    }
  }
}
